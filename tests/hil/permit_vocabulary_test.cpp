// Permit commands have two readers: the scenario loader (YAML script actions) and the live decoder
// (JSON on topic `permit`). Both take their words from engine/permit_vocabulary.h; these tests
// hold them to it: every action is accepted by both with exactly its required fields, and each
// reader refuses the command when any one of them is missing, naming the field.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "engine/permit_vocabulary.h"
#include "hardware-in-loop/session.h"
#include "scenarios/loader.h"
#include "tests/hil/live_fixture.h"

namespace planttwin::hil::test {
namespace {

constexpr std::int64_t kStartUs = 1'800'000'000'000'000;

// one value per field, written the same way in YAML flow style and in JSON
const std::map<std::string, std::string>& values() {
  static const std::map<std::string, std::string> v = {
      {"type", "\"hot_work\""},     {"area", "[[0, 0], [5, 0], [5, 5]]"}, {"from", "0"},          {"to", "3600"},
      {"workers", "[\"P1\"]"},      {"guardian", "\"S1\""},              {"approver", "\"S1\""},  {"by", "\"S1\""},
      {"readings", "{\"o2_volpct\": 20.9}"}, {"signed_by", "[\"P1\"]"}};
  return v;
}

// the command's fields (action, id and the required ones but `without`) as a flow mapping body
std::string fields(const std::string& action, const std::string& without) {
  std::string o = "\"action\": \"" + action + "\", \"id\": \"W1\"";
  for (const std::string& k : permit_vocabulary::required_fields(action))
    if (k != without) o += ", \"" + k + "\": " + values().at(k);
  return o;
}

std::optional<LoadError> load(const std::string& action, const std::string& without) {
  const std::string text = "scenario: vocab\nsite:\n  site: yard\n  bounds: [[0, 0], [100, 0], [100, 100], [0, 100]]\n"
                           "duration: 10s\npeople:\n  - {id: P1, tag: T1, at: [10, 10]}\n  - {id: S1, tag: T2, at: [20, 20]}\n"
                           "script:\n  - {t: 1s, permit: {" + fields(action, without) + "}}\n";
  Scenario sc;
  return load_scenario_text(text, "vocab.yaml", sc);
}

// A live session that takes one `permit` message: true when accepted; otherwise `error` is the
// JSON the session answered on topic `error`.
bool live_permit(const std::string& fields_json, nlohmann::json* error = nullptr) {
  Scenario sc = load_live_scenario();
  SessionOptions o;
  o.start_unix_us = kStartUs;
  Session s(sc, o);
  std::vector<WireMessage> published;
  s.set_publisher([&](const WireMessage& m) { published.push_back(m); });
  const std::string body = "{\"v\": 1, \"ts\": " + std::to_string(kStartUs / 1000 + 1000) + ", " + fields_json + "}";
  const bool ok = s.on_message(kSecond, "permit", body);
  if (!ok && error) *error = published.empty() ? nlohmann::json() : nlohmann::json::parse(published.back().body);
  return ok;
}

TEST(PermitVocabulary, EveryActionWithItsRequiredFieldsIsReadByBoth) {
  for (const std::string& action : permit_vocabulary::actions()) {
    SCOPED_TRACE(action);
    auto err = load(action, "");
    EXPECT_FALSE(err) << err->to_string();
    nlohmann::json e;
    EXPECT_TRUE(live_permit(fields(action, ""), &e)) << e.dump();
  }
}

TEST(PermitVocabulary, BothRefuseACommandMissingARequiredFieldAndNameIt) {
  int checked = 0;
  for (const std::string& action : permit_vocabulary::actions())
    for (const std::string& missing : permit_vocabulary::required_fields(action)) {
      SCOPED_TRACE(action + " without " + missing);
      auto err = load(action, missing);
      ASSERT_TRUE(err.has_value());
      EXPECT_NE(err->to_string().find(missing), std::string::npos) << err->to_string();

      nlohmann::json e;
      EXPECT_FALSE(live_permit(fields(action, missing), &e));
      ASSERT_TRUE(e.is_object());
      EXPECT_EQ(e["reason"], "missing_field");
      EXPECT_NE(e["detail"].get<std::string>().find(missing), std::string::npos) << e.dump();
      ++checked;
    }
  EXPECT_EQ(checked, 16);  // reserve 4, apply 7, gas 2, approve 1, brief 1, handover 1
}

TEST(PermitVocabulary, BothRefuseAWordOutsideTheVocabulary) {
  // a ninth kind of special work is not one
  std::string text = "scenario: vocab\nsite:\n  site: yard\n  bounds: [[0, 0], [100, 0], [100, 100], [0, 100]]\n"
                     "duration: 10s\npeople:\n  - {id: P1, tag: T1, at: [10, 10]}\n"
                     "script:\n  - {t: 1s, permit: {action: reserve, id: R1, type: diving, area: [[0, 0], [5, 0], [5, 5]], from: 0, to: 60}}\n";
  Scenario sc;
  auto err = load_scenario_text(text, "vocab.yaml", sc);
  ASSERT_TRUE(err.has_value());
  for (const std::string& t : permit_vocabulary::types()) EXPECT_NE(err->to_string().find(t), std::string::npos) << "the error lists " << t;

  nlohmann::json e;
  EXPECT_FALSE(live_permit("\"action\": \"reserve\", \"id\": \"R1\", \"type\": \"diving\", \"area\": [[0, 0], [5, 0], [5, 5]], \"from\": 0, \"to\": 60", &e));
  ASSERT_TRUE(e.is_object());
  EXPECT_EQ(e["reason"], "bad_field");
  for (const std::string& t : permit_vocabulary::types()) EXPECT_NE(e["detail"].get<std::string>().find(t), std::string::npos) << t;
}

}  // namespace
}  // namespace planttwin::hil::test
