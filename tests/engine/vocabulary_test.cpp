// The typed vocabulary (issue 12): every alarm type, level and AQ 3064.2 code has one name, the
// names round-trip, and JSON writers get names, never numbers.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "engine/vocabulary.h"

namespace planttwin {
namespace {

TEST(Vocabulary, H01_EveryAlarmTypeHasOneNameThatRoundTripsInEnumOrder) {
  std::set<std::string> names;
  int i = 0;
  for (AlarmType t : all_alarm_types()) {
    EXPECT_EQ(static_cast<int>(t), i++) << "the table is in enum order";
    const std::string name = to_string(t);
    EXPECT_FALSE(name.empty());
    EXPECT_FALSE(std::string(zh(t)).empty()) << name;
    EXPECT_TRUE(names.insert(name).second) << "duplicate name " << name;
    AlarmType back{};
    ASSERT_TRUE(parse_alarm_type(name, back)) << name;
    EXPECT_EQ(back, t);
  }
  EXPECT_EQ(names.size(), kAlarmTypeCount);
  AlarmType t{};
  EXPECT_FALSE(parse_alarm_type("Gathering", t));
  EXPECT_FALSE(parse_alarm_type("", t));
}

TEST(Vocabulary, H01_LevelsRankRedHighestAndRoundTrip) {
  EXPECT_GT(rank(AlarmLevel::red), rank(AlarmLevel::orange));
  EXPECT_GT(rank(AlarmLevel::orange), rank(AlarmLevel::yellow));
  EXPECT_GT(rank(AlarmLevel::yellow), rank(AlarmLevel::blue));
  EXPECT_GT(rank(AlarmLevel::blue), rank(AlarmLevel::none));
  for (AlarmLevel l : {AlarmLevel::red, AlarmLevel::orange, AlarmLevel::yellow, AlarmLevel::blue}) {
    AlarmLevel back{};
    ASSERT_TRUE(parse_alarm_level(to_string(l), back));
    EXPECT_EQ(back, l);
  }
  EXPECT_STREQ(to_string(AlarmLevel::none), "");
  EXPECT_STREQ(zh(AlarmLevel::red), "红");
  AlarmLevel l{};
  EXPECT_FALSE(parse_alarm_level("none", l));
}

TEST(Vocabulary, SO02_Aq2CodesOfTableA4MapToTheirAlarmTypes) {
  EXPECT_EQ(aq2_alarm_codes().size(), 22u);
  std::set<std::string> seen;
  for (const Aq2CodeInfo& c : aq2_alarm_codes()) {
    EXPECT_TRUE(seen.insert(c.text).second) << c.text;
    EXPECT_STREQ(to_string(c.code), c.text);
    Aq2Code back{};
    ASSERT_TRUE(parse_aq2_code(c.text, back));
    EXPECT_EQ(back, c.code);
    EXPECT_EQ(alarm_type_of(c.code), c.type);
  }
  EXPECT_EQ(alarm_type_of(Aq2Code::c31), AlarmType::guardian_absent);
  EXPECT_EQ(alarm_type_of(Aq2Code::c42), AlarmType::hot_work_not_upgraded);
  EXPECT_STREQ(to_string(Aq2Code::none), "");
  Aq2Code c{};
  EXPECT_FALSE(parse_aq2_code("", c));
  EXPECT_FALSE(parse_aq2_code("99", c));
}

// What nlohmann::json does with an enum: it calls to_json(j, value), found by argument-dependent
// lookup. A stand-in JSON value records what it was given.
struct FakeJson {
  std::string text;
  FakeJson& operator=(const char* s) {
    text = s;
    return *this;
  }
};

TEST(Vocabulary, H01_JsonWritersGetNamesNotNumbers) {
  FakeJson j;
  to_json(j, AlarmType::stationary);
  EXPECT_EQ(j.text, "stationary");
  to_json(j, AlarmLevel::orange);
  EXPECT_EQ(j.text, "orange");
  to_json(j, Aq2Code::c05);
  EXPECT_EQ(j.text, "05");
}

}  // namespace
}  // namespace planttwin
