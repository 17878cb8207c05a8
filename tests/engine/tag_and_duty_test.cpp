// PL-06 SOS, PL-09 tags (offline, low battery, untagged entry), PL-10 duty (routing, lifecycle,
// unacknowledged escalation), H-01 determinism of the engine itself.
#include "tests/engine/world.h"

namespace planttwin::test {
namespace {

using K = AlarmEventKind;

TEST(Sos, PL06_RaisedAtOnceAtTheLastPositionAsRed) {
  World w;
  w.person("A", 12, 34);
  w.run_to(10);
  w.input(10.5, SosInput{w.engine->tag_index("TA")});
  w.run_to(11);
  ASSERT_EQ(w.raised("sos"), std::vector<double>{10.5});
  const Alarm& a = *w.of_type("sos")[0];
  EXPECT_EQ(a.level, AlarmLevel::red);
  EXPECT_DOUBLE_EQ(a.pos.x, 12);
  EXPECT_DOUBLE_EQ(a.pos.y, 34);
  w.run_to(200);
  EXPECT_FALSE(a.cleared_at.has_value()) << "an SOS stays open until a person closes it";
}

// Issue 17 (found by AddressSanitizer in the test above): a reference to an alarm must survive
// later steps that raise many more. The engine keeps its alarms in a deque (AlarmLog), so the
// address of the first alarm never changes; with a vector it moved at the first reallocation.
TEST(Sos, PL06_AReferenceToAnAlarmStaysValidWhileLaterStepsRaiseMore) {
  World w;
  for (int i = 0; i < 300; ++i) w.person("P" + std::to_string(1000 + i), 10 + i, 20);
  w.run_to(10);
  w.input(10.5, SosInput{w.engine->tag_index("TP1000")});
  w.run_to(11);
  ASSERT_EQ(w.engine->alarms().size(), 1u);
  const Alarm& first = w.engine->alarms().front();
  const Alarm* const address = &first;
  const std::string id = first.id;
  for (int i = 1; i < 300; ++i) w.input(11 + 0.01 * i, SosInput{w.engine->tag_index("TP" + std::to_string(1000 + i))});
  w.run_to(20);
  ASSERT_GE(w.engine->alarms().size(), 300u);
  EXPECT_EQ(&w.engine->alarms().front(), address) << "raising alarms moved the earlier ones";
  EXPECT_EQ(first.id, id);
  EXPECT_EQ(first.type, AlarmType::sos);
}

TEST(Tags, PL09_OfflineAfterMoreThan30sWithoutAFix) {
  World w;
  w.person("A", 0, 0);
  w.run_to(10);
  w.reporting["A"] = false;  // last fix at 10
  w.run_to(40);
  EXPECT_TRUE(w.raised("tag_offline").empty());
  w.run_to(41);
  EXPECT_EQ(w.raised("tag_offline"), std::vector<double>{41});
  w.reporting["A"] = true;
  w.run_to(42);
  EXPECT_EQ(w.event_times("tag_offline", K::cleared), std::vector<double>{42});
}

TEST(Tags, PL09_LowBatteryBelowTheThresholdOnly) {
  World w;
  w.person("A", 0, 0);
  w.person("B", 5, 0);
  w.run_to(1);
  TagStatusInput at;
  at.tag = w.engine->tag_index("TA");
  at.battery = 0.2;
  TagStatusInput below;
  below.tag = w.engine->tag_index("TB");
  below.battery = 0.19;
  w.input(2, at);
  w.input(2, below);
  w.run_to(3);
  ASSERT_EQ(w.of_type("low_battery").size(), 1u);
  EXPECT_EQ(w.of_type("low_battery")[0]->who, std::vector<std::string>{"B"});
  EXPECT_EQ(w.raised("low_battery"), std::vector<double>{2});
}

TEST(Tags, PL09_GateEntryWithoutFixesRaisesUntaggedEntryAfterMoreThan60s) {
  World w;
  w.person("NOTAG", 0, 0, Category::visitor, {}, /*tagged=*/false);
  w.person("LATE", 5, 0);
  w.reporting["LATE"] = false;
  w.person("OK", 9, 0);
  w.run_to(0);
  for (const char* who : {"NOTAG", "LATE", "OK"}) w.input(5, GateInput{w.engine->person_index(who), true, "G1"});
  w.run_to(65);
  EXPECT_TRUE(w.raised("untagged_entry").empty());
  w.run_to(66);
  // NOTAG and LATE (whose tag never reported) are flagged; OK reported all along
  auto u = w.of_type("untagged_entry");
  ASSERT_EQ(u.size(), 2u);
  EXPECT_EQ(u[0]->who, std::vector<std::string>{"LATE"});
  EXPECT_EQ(u[1]->who, std::vector<std::string>{"NOTAG"});
  EXPECT_EQ(w.raised("untagged_entry"), (std::vector<double>{66, 66}));
}

TEST(Tags, PL09_AFixWithin60sOfTheGateAvoidsUntaggedEntry) {
  World w;
  w.person("A", 0, 0);
  w.reporting["A"] = false;
  w.run_to(0);
  w.input(5, GateInput{w.engine->person_index("A"), true, "G1"});
  w.run_to(64);
  w.reporting["A"] = true;  // first fix at 65: exactly 60 s after the gate
  w.run_to(100);
  EXPECT_TRUE(w.raised("untagged_entry").empty());
}

TEST(Duty, PL10_AlarmsAreRoutedToThePersonOnDuty) {
  World w;
  w.setup.duty = {{"D1", s(0), s(50)}, {"D2", s(50), s(1000)}};
  w.person("A", 0, 0);
  w.run_to(1);
  w.input(10, SosInput{w.engine->tag_index("TA")});
  w.input(60, SosInput{w.engine->tag_index("TA")});
  w.run_to(61);
  auto sos = w.of_type("sos");
  ASSERT_EQ(sos.size(), 2u);
  EXPECT_EQ(sos[0]->routed_to, "D1");
  EXPECT_EQ(sos[1]->routed_to, "D2");
}

TEST(Duty, PL10_UnacknowledgedAfterMoreThanAckWithin) {
  World w;
  w.person("A", 0, 0);
  w.person("B", 100, 0);
  w.run_to(1);
  w.input(10, SosInput{w.engine->tag_index("TA")});
  w.input(10, SosInput{w.engine->tag_index("TB")});
  w.action(70, AlarmAction::Kind::ack, "sos", "D1", "A");  // exactly 60 s: in time
  w.run_to(70);
  EXPECT_TRUE(w.raised("unacknowledged").empty());
  w.run_to(71);
  auto un = w.of_type("unacknowledged");
  ASSERT_EQ(un.size(), 1u);
  EXPECT_EQ(un[0]->raised_at, s(71));
  EXPECT_EQ(un[0]->of, w.of_type("sos")[1]->id);
  EXPECT_EQ(un[0]->who, std::vector<std::string>{"B"});
  // acknowledging the first alarm clears its escalation; unacknowledged alarms do not escalate
  w.action(90, AlarmAction::Kind::ack, "sos", "D1");
  w.run_to(300);
  EXPECT_EQ(w.event_times("unacknowledged", K::cleared), std::vector<double>{90});
  EXPECT_EQ(w.of_type("unacknowledged").size(), 1u);
}

TEST(Duty, PL10_LifecycleRecordsWhoWhenAndNote) {
  World w;
  w.person("A", 0, 0);
  w.run_to(1);
  w.input(5, SosInput{w.engine->tag_index("TA")});
  w.action(20, AlarmAction::Kind::ack, "sos", "D1");
  w.action(30, AlarmAction::Kind::handle, "sos", "D1");
  w.action(40, AlarmAction::Kind::close, "sos", "D2");
  w.run_to(41);
  const Alarm& a = *w.of_type("sos")[0];
  ASSERT_EQ(a.events.size(), 4u);
  EXPECT_EQ(a.events[1].kind, K::acknowledged);
  EXPECT_EQ(a.events[1].by, "D1");
  EXPECT_EQ(a.events[2].kind, K::handled);
  EXPECT_EQ(a.events[2].t, s(30));
  EXPECT_EQ(a.events[3].kind, K::closed);
  EXPECT_EQ(a.events[3].by, "D2");
  EXPECT_EQ(a.events[3].note, "note");
  EXPECT_STREQ(a.handling_status(), "closed");
}

TEST(Duty, PL10_ActionWithoutAMatchingAlarmIsCountedNotApplied) {
  World w;
  w.person("A", 0, 0);
  w.run_to(1);
  w.action(2, AlarmAction::Kind::ack, "sos", "D1");
  w.run_to(3);
  EXPECT_EQ(w.engine->counters().unmatched_actions, 1u);
}

// H-01: the same inputs give the same outputs, byte for byte.
std::string run_mixed_world() {
  World w;
  Zone& z = w.zone("Z", rect(0, 0, 20, 20));
  z.authorized.present = true;
  z.capacity = 2;
  for (int i = 0; i < 6; ++i) w.person("P" + std::to_string(i), i * 3.0, 5, Category::visitor);
  w.run_to(30);
  w.move("P5", 60, 60);
  w.input(35, SosInput{w.engine->tag_index("TP1")});
  w.run_to(150);
  std::string stream;
  for (const Alarm& a : w.engine->alarms())
    for (const AlarmEvent& e : a.events) stream += canonical_alarm_line(a, e);
  return stream;
}

TEST(Determinism, H01_SameInputsSameAlarmStream) {
  const std::string a = run_mixed_world(), b = run_mixed_world();
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, b);
}

TEST(Determinism, H01_LateInputIsAppliedNowAndCounted) {
  World w;
  w.person("A", 0, 0);
  w.run_to(10);
  w.input(5, SosInput{w.engine->tag_index("TA")});
  w.run_to(11);
  EXPECT_EQ(w.engine->counters().late_inputs, 1u);
  EXPECT_EQ(w.raised("sos"), std::vector<double>{10});
}

}  // namespace
}  // namespace planttwin::test
