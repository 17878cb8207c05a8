// PL-02 gathering rule over time: dwell, tiers, one alarm per gathering, escalation, no flapping,
// confirmation of dispersal, warnings.
#include <cmath>

#include "tests/engine/world.h"

namespace planttwin::test {
namespace {

using K = AlarmEventKind;

// Three people on a triangle of circumradius r around (cx, cy).
void triangle(World& w, double r, double cx = 100, double cy = 100, const std::string& prefix = "P") {
  for (int i = 0; i < 3; ++i) {
    const double a = 2 * M_PI * i / 3;
    w.person(prefix + std::to_string(i + 1), cx + r * std::cos(a), cy + r * std::sin(a));
  }
}

TEST(GatheringRule, PL02_TriangleCircumradius14_5mRaisesYellowAfterMoreThan60s) {
  World w;
  triangle(w, 14.5);
  w.run_to(60);
  EXPECT_TRUE(w.raised("gathering").empty()) << "held for exactly 60 s is not more than the dwell";
  w.run_to(61);
  ASSERT_EQ(w.raised("gathering"), std::vector<double>{61});
  EXPECT_EQ(w.of_type("gathering")[0]->level, AlarmLevel::yellow);
  EXPECT_EQ(w.of_type("gathering")[0]->who, (std::vector<std::string>{"P1", "P2", "P3"}));
}

TEST(GatheringRule, PL02_EquilateralTriangleSide29mDoesNotGather) {
  World w;
  triangle(w, 29 / std::sqrt(3.0));  // circumradius 16.74 m
  w.run_to(200);
  EXPECT_TRUE(w.raised("gathering").empty());
}

TEST(GatheringRule, PL02_CircumradiusJustAboveRadiusDoesNotGather) {
  World w;
  triangle(w, 15.01);
  w.run_to(120);
  EXPECT_TRUE(w.raised("gathering").empty());
}

TEST(GatheringRule, PL02_CircumradiusExactlyRadiusGathers) {
  World w;
  triangle(w, 15.0);
  w.run_to(61);
  EXPECT_EQ(w.raised("gathering").size(), 1u);
}

TEST(GatheringRule, PL02_TwoPeopleDoNotGather) {
  World w;
  w.person("A", 0, 0);
  w.person("B", 1, 0);
  w.run_to(200);
  EXPECT_TRUE(w.raised("gathering").empty());
}

TEST(GatheringRule, PL02_FivePeopleRaiseOneOrangeNotYellowFirst) {
  World w;
  for (int i = 0; i < 5; ++i) w.person("P" + std::to_string(i), 50 + i, 50);
  w.run_to(100);
  const auto g = w.of_type("gathering");
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0]->events.front().level, AlarmLevel::orange);
  EXPECT_EQ(w.raised("gathering"), std::vector<double>{61});
  EXPECT_TRUE(w.event_times("gathering", K::escalated).empty());
}

TEST(GatheringRule, PL02_SevenPeopleRaiseRed_SixOrange) {
  World six, seven;
  for (int i = 0; i < 6; ++i) six.person("P" + std::to_string(i), i, 0);
  for (int i = 0; i < 7; ++i) seven.person("P" + std::to_string(i), i, 0);
  six.run_to(61);
  seven.run_to(61);
  EXPECT_EQ(six.of_type("gathering").at(0)->level, AlarmLevel::orange);
  EXPECT_EQ(seven.of_type("gathering").at(0)->level, AlarmLevel::red);
}

TEST(GatheringRule, PL02_LaterHigherTierEscalatesTheSameAlarm) {
  World w;
  for (int i = 0; i < 3; ++i) w.person("P" + std::to_string(i), 10 + i, 10);
  for (int i = 3; i < 7; ++i) w.person("P" + std::to_string(i), 300 + i, 300);  // far away
  w.run_to(30);
  for (int i = 3; i < 7; ++i) w.move("P" + std::to_string(i), 10 + i, 12);  // join at t = 31
  w.run_to(200);
  const auto g = w.of_type("gathering");
  ASSERT_EQ(g.size(), 1u) << "one alarm per gathering";
  EXPECT_EQ(w.raised("gathering"), std::vector<double>{61});
  // the newcomers joined at 31 s; 4 of them plus 3 are 7 people gathered for more than 60 s at 92 s
  EXPECT_EQ(w.event_times("gathering", K::escalated), std::vector<double>{92});
  EXPECT_EQ(g[0]->level, AlarmLevel::red);
  EXPECT_EQ(g[0]->who.size(), 7u);
}

TEST(GatheringRule, PL02_CandidateEndsAtTheFixThatBreaksIt) {
  World w;
  for (int i = 0; i < 3; ++i) w.person("P" + std::to_string(i), i, 0);
  w.run_to(30);
  w.move("P2", 100, 0);  // leaves at 31
  w.run_to(31);
  w.move("P2", 2, 0);  // back at 32: the count restarts
  w.run_to(93);
  EXPECT_EQ(w.raised("gathering"), std::vector<double>{93});
}

TEST(GatheringRule, PL02_AMissingFixEndsACandidate_NoTolerance) {
  World w;
  for (int i = 0; i < 3; ++i) w.person("P" + std::to_string(i), i, 0);
  w.run_to(30);
  w.reporting["P2"] = false;  // no fix at 31
  w.run_to(31);
  w.reporting["P2"] = true;  // back at 32: the count restarts there
  w.run_to(93);
  EXPECT_EQ(w.raised("gathering"), std::vector<double>{93});
}

// Irregular report times (ALOHA blinks: intervals uniform over 0..2 s). By default a member whose
// next fix comes later than the last interval drops out; with fix_max_age the group holds.
void irregular_gathering(World& w) {
  for (int i = 0; i < 3; ++i) w.person("P" + std::to_string(i), i, 0);
  w.run_to(0);
  // per person, fix times with intervals 0.3, 1.7, 0.3, 1.7 ... (mean 1 s, never over 2 s)
  for (int k = 1; k <= 80; ++k) {
    const double t = k % 2 ? k - 0.7 : static_cast<double>(k);
    for (const char* id : {"P0", "P1", "P2"}) w.fix_now(id, s(t));
    w.engine->advance_to(s(t));
  }
  w.engine->advance_to(s(80));
}

TEST(GatheringRule, PL02_IrregularReportTimesNeverGatherWithoutAFixAgeBound) {
  World w;
  irregular_gathering(w);
  EXPECT_TRUE(w.raised("gathering").empty()) << "after a 0.3 s interval, the next 1.7 s gap drops members";
}

TEST(GatheringRule, PL02_FixMaxAgeCountsMembersWhileTheirFixIsAtMostThatOld) {
  World w;
  w.site.rules.gathering.fix_max_age = 2 * kSecond;
  irregular_gathering(w);
  // members since t = 0; the first step more than 60 s later is the fix at 60.3 s
  EXPECT_EQ(w.raised("gathering"), std::vector<double>{60.3});
  // a bound below the age seen at the whole-second steps (0.7 s after a fix at k - 0.7) drops them
  World tight;
  tight.site.rules.gathering.fix_max_age = 500 * kMillisecond;
  irregular_gathering(tight);
  EXPECT_TRUE(tight.raised("gathering").empty());
}

TEST(GatheringRule, PL02_SlowTagsBetweenFixesStillCount) {
  // a tag reporting every 2 s is current between its fixes
  World w;
  for (int i = 0; i < 3; ++i) w.person("P" + std::to_string(i), i, 0);
  w.run_to(0);
  for (int k = 1; k <= 40; ++k) {
    const double t = 2.0 * k;
    for (const char* id : {"P0", "P1", "P2"}) w.fix_now(id, s(t));
    w.engine->advance_to(s(t + 1));  // a step at t (fixes) and one at t + 1 (no fixes)
  }
  EXPECT_EQ(w.raised("gathering"), std::vector<double>{61});
}

TEST(GatheringRule, PL02_RaisedGatheringDoesNotFlapOnOneNoisyFix) {
  World w;
  for (int i = 0; i < 3; ++i) w.person("P" + std::to_string(i), i, 0);
  w.run_to(70);
  w.move("P2", 60, 0);  // one wild fix at 71
  w.run_to(71);
  w.move("P2", 2, 0);
  w.run_to(120);
  EXPECT_EQ(w.raised("gathering").size(), 1u);
  EXPECT_TRUE(w.event_times("gathering", K::cleared).empty());
}

TEST(GatheringRule, PL02_YellowClearsAndClosesWhenDispersedForMoreThanClearAfter) {
  World w;
  for (int i = 0; i < 3; ++i) w.person("P" + std::to_string(i), i, 0);
  w.run_to(70);
  w.move("P2", 60, 0);  // dispersed from 71
  w.run_to(100);
  // clear_after 5 s: broken at 71, cleared at the first step more than 5 s later
  EXPECT_EQ(w.event_times("gathering", K::cleared), std::vector<double>{77});
  EXPECT_EQ(w.event_times("gathering", K::closed), std::vector<double>{77});
}

TEST(GatheringRule, PL02_OrangeNeedsAPersonToConfirmDispersalBeforeClosing) {
  World w;
  for (int i = 0; i < 4; ++i) w.person("P" + std::to_string(i), i, 0);
  w.run_to(70);
  w.action(70.5, AlarmAction::Kind::close, "gathering", "OP1");  // refused: not dispersed yet
  w.run_to(71);
  EXPECT_TRUE(w.event_times("gathering", K::closed).empty());
  for (int i = 0; i < 4; ++i) w.move("P" + std::to_string(i), i * 40, 0);
  w.run_to(100);
  EXPECT_EQ(w.event_times("gathering", K::cleared).size(), 1u);
  EXPECT_TRUE(w.event_times("gathering", K::closed).empty()) << "orange stays open until confirmed";
  w.action(100.5, AlarmAction::Kind::close, "gathering", "OP1");
  w.run_to(101);
  EXPECT_EQ(w.event_times("gathering", K::closed), std::vector<double>{100.5});
  EXPECT_EQ(w.of_type("gathering")[0]->events.back().by, "OP1");
}

TEST(GatheringRule, PL02_EveryMemberIsWarned) {
  World w;
  for (int i = 0; i < 3; ++i) w.person("P" + std::to_string(i), i, 0);
  w.run_to(61);
  std::vector<std::string> tags;
  for (const Output& o : w.engine->outputs())
    if (const auto* wo = std::get_if<WarnOutput>(&o.body)) {
      EXPECT_EQ(o.t, s(61)) << "warned at the raise, well within 5 s";
      tags.push_back(wo->tag);
    }
  EXPECT_EQ(tags, (std::vector<std::string>{"TP0", "TP1", "TP2"}));
}

TEST(GatheringRule, PL02_DifferentFloorsDoNotGather) {
  World w;
  w.person("A", 0, 0);
  w.person("B", 1, 0);
  w.person("C", 2, 0, Category::employee, {}, true, "2");
  w.run_to(100);
  EXPECT_TRUE(w.raised("gathering").empty());
}

TEST(GatheringRule, PL02_PersonNearAMemberButOutsideTheDiskIsNotInTheGathering) {
  World w;
  triangle(w, 14.5);
  // 20 m beyond P1 (which stands at (114.5, 100)): close to a member, outside any 15 m disk with the others
  w.person("X", 134.5, 100);
  w.run_to(61);
  ASSERT_EQ(w.of_type("gathering").size(), 1u);
  EXPECT_EQ(w.of_type("gathering")[0]->who, (std::vector<std::string>{"P1", "P2", "P3"}));
}

TEST(GatheringRule, PL02_RadiusAndDwellAreConfigurable) {
  World w;
  w.site.rules.gathering.radius = 5;
  w.site.rules.gathering.dwell = s(10);
  triangle(w, 5.5);
  triangle(w, 4.5, 500, 500, "Q");
  w.run_to(11);
  ASSERT_EQ(w.of_type("gathering").size(), 1u);
  EXPECT_EQ(w.of_type("gathering")[0]->who, (std::vector<std::string>{"Q1", "Q2", "Q3"}));
  EXPECT_EQ(w.raised("gathering"), std::vector<double>{11});
}

// PL-02, H-01: gathering.every runs the rule at the first step at or after each multiple of it,
// not at every step. Three people gathered from t = 0 with fixes at whole seconds, and a battery
// report at every half second (steps between the fixes): by default the rule runs at 60.5 s too and
// raises there (held for more than 60 s); once a second, at 61 s; every 2.5 s, at 62.5 s, a step
// exactly on a multiple (at 60 s, also a multiple, it was held for exactly the dwell, not more);
// every 2.2 s, at 62 s, the first step after the multiple 61.6 s (at 59.5 s, the first after
// 59.4 s, not yet held for more than the dwell). The group's members and level are the same each way.
TEST(GatheringRule, PL02_H01_EveryRunsTheRuleAtTheFirstStepAtOrAfterEachMultiple) {
  auto run = [](Micros every) {
    auto w = std::make_unique<World>();
    w->site.rules.gathering.every = every;
    triangle(*w, 10);
    w->start();
    for (int half = 1; half <= 2 * 80; half += 2) {
      w->run_to((half - 1) / 2.0);
      TagStatusInput st;
      st.tag = w->engine->tag_index("TP1");
      st.battery = 0.9;
      w->input(half / 2.0, st);
    }
    w->run_to(80);
    return w;
  };
  const auto every_step = run(0), each_second = run(kSecond), on_a_step = run(2500 * kMillisecond),
             uneven = run(2200 * kMillisecond);
  EXPECT_EQ(every_step->raised("gathering"), std::vector<double>{60.5});
  EXPECT_EQ(each_second->raised("gathering"), std::vector<double>{61});
  EXPECT_EQ(on_a_step->raised("gathering"), std::vector<double>{62.5});
  EXPECT_EQ(uneven->raised("gathering"), std::vector<double>{62});
  for (const World* w : {every_step.get(), each_second.get(), on_a_step.get(), uneven.get()}) {
    ASSERT_EQ(w->of_type("gathering").size(), 1u);
    EXPECT_EQ(w->of_type("gathering")[0]->level, AlarmLevel::yellow);
    EXPECT_EQ(w->of_type("gathering")[0]->who, (std::vector<std::string>{"P1", "P2", "P3"}));
  }
  // the steps between: the engine stepped at every half second in each run
  EXPECT_GE(each_second->engine->state().counters.steps, 160u);
}

// PL-02, H-01: with gathering.every the rule's steps are a function of engine time and the step
// before, both engine state: an engine restored from a checkpoint taken between two evaluations
// (at 31 s, every 2.5 s) runs the rule at the same steps and ends in the same state as one that ran
// through, over a group that forms, escalates (a fourth person joins) and breaks up.
TEST(GatheringRule, PL02_H01_EveryAcrossACheckpointGivesTheSameRun) {
  auto world = [] {
    auto w = std::make_unique<World>();
    w->site.rules.gathering.every = 2500 * kMillisecond;
    triangle(*w, 10);
    w->person("P4", 300, 300);
    w->start();
    return w;
  };
  auto script = [](World& w, double from, double to) {
    for (double t = from; t <= to; t += 1) {
      if (t == 20) w.move("P4", 100, 104);
      if (t == 140) w.move("P1", 400, 400), w.move("P2", 500, 500);
      w.run_to(t);
    }
  };
  auto through = world();
  script(*through, 0, 200);
  auto resumed = world();
  script(*resumed, 0, 31);
  const EngineState saved = resumed->engine->state();
  resumed->engine = std::make_unique<Engine>(resumed->setup);
  std::string why;
  ASSERT_TRUE(resumed->engine->restore(saved, &why)) << why;
  script(*resumed, 32, 200);
  EXPECT_TRUE(resumed->engine->state() == through->engine->state());
  const auto g = through->of_type("gathering");
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0]->level, AlarmLevel::orange);  // four members held for more than the dwell
  EXPECT_FALSE(through->event_times("gathering", K::cleared).empty());
  for (double t : through->event_times("gathering", K::raised)) EXPECT_EQ(std::fmod(t, 1.0), 0.0);
}

}  // namespace
}  // namespace planttwin::test
