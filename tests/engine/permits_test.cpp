// SO-01..SO-04, SO-10, PL-12: the special-work permit desk against a fake world (positions set by
// the test, alarms, clears, refusals and statuses recorded). Every rule at its edges.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/permits.h"

namespace planttwin::test {
namespace {

Micros sec(double s) { return from_seconds(s); }
constexpr Micros kMs = kMillisecond;

std::vector<Vec2> box(double x0, double y0, double x1, double y1) { return {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}; }
Polygon poly(double x0, double y0, double x1, double y1) {
  Polygon p;
  p.pts = box(x0, y0, x1, y1);
  p.finalize();
  return p;
}

using Codes = std::vector<std::string>;

class FakeWorld : public PermitWorld {
 public:
  struct Raised {
    PermitAlarm alarm;
    std::optional<Micros> cleared;
  };
  struct Refusal {
    Micros t = 0;
    std::string permit, action;
    Codes codes;
  };
  struct Status {
    Micros t = 0;
    std::string id, status;
  };

  WallClock clock;
  std::map<int, PersonWhere> at;
  std::deque<Raised> alarms;  // deque: pointers stay valid as alarms are added
  std::vector<Refusal> refusals;
  std::vector<Status> statuses;

  PersonWhere where(int person) const override {
    const auto it = at.find(person);
    return it == at.end() ? PersonWhere{} : it->second;
  }
  LocalTime local(Micros t) const override { return local_time(clock, t); }
  std::int64_t unix_seconds(Micros t) const override { return clock.start_unix_s + t / kSecond; }
  int raise(const PermitAlarm& a) override {
    alarms.push_back({a, std::nullopt});
    return static_cast<int>(alarms.size()) - 1;
  }
  void clear(int& handle, Micros t) override {
    if (handle >= 0) {
      EXPECT_FALSE(alarms[static_cast<size_t>(handle)].cleared) << "cleared twice";
      alarms[static_cast<size_t>(handle)].cleared = t;
    }
    handle = -1;
  }
  void refuse(Micros t, const std::string& permit, const std::string& action, const Codes& codes) override {
    refusals.push_back({t, permit, action, codes});
  }
  void status(Micros t, const std::string& id, const std::string& s) override { statuses.push_back({t, id, s}); }
};

// People in id order; indices are their positions here.
enum : int { P01, P02, P03, P04, P05, P06, P07, P08, P09, P10 };

class Desk {
 public:
  Site site;
  FakeWorld w;
  std::vector<PermitPerson> people;
  std::unique_ptr<PermitDesk> desk;
  std::int64_t day0 = 0;  // local day of t = 0 (Monday 2026-01-05)

  Desk() {
    site.name = "test";
    site.floors = {{"1", -1, 4}, {"2", 4, 8}};
    Zone ex;
    ex.id = "EX";
    ex.polygon = poly(100, 0, 200, 100);
    ex.explosion_hazard = true;
    site.zones.push_back(ex);
    Zone pr;
    pr.id = "PR";
    pr.polygon = poly(300, 0, 400, 100);
    pr.permit_required = true;
    site.zones.push_back(pr);
    site.rules.gas.toxic["H2S"] = 10;
    day0 = local_time(w.clock, 0).days_since_epoch;
    const std::int64_t far = day0 + 1000;
    add("P01", Category::contractor, {"welder"}, {{"welding", "W-1", far, ""}, {"electrician", "E-1", far, ""}});
    add("P02", Category::employee, {"guardian"}, {{"guardian", "G-2", far, ""}});
    add("P03", Category::employee, {"workshop_head"}, {});
    add("P04", Category::employee, {"analyst"}, {});
    add("P05", Category::visitor, {}, {});
    add("P06", Category::contractor, {"welder"}, {{"welding", "W-6", far, ""}});
    add("P07", Category::employee, {"guardian"}, {{"guardian", "G-7", far, ""}});
    add("P08", Category::employee, {"safety"}, {});
    add("P09", Category::contractor, {}, {});
    add("P10", Category::contractor, {"welder"}, {});
    // workers and guardian in the area, the approver at its centre, everyone else far away
    for (int i = 0; i < static_cast<int>(people.size()); ++i) place(i, 500, 500);
    place(P01, 4, 5);
    place(P02, 6, 5);
    place(P03, 5, 5);
  }

  void add(const std::string& id, Category cat, std::vector<std::string> roles, std::vector<Certificate> certs) {
    PermitPerson p;
    p.id = id;
    p.name = "Name " + id;
    p.category = cat;
    p.roles = std::move(roles);
    p.certificates = std::move(certs);
    people.push_back(std::move(p));
  }

  void place(int person, double x, double y, const std::string& floor = "1") {
    PersonWhere pw;
    pw.known = true;
    pw.pos = {x, y};
    pw.floor = floor;
    w.at[person] = pw;
  }
  void lose(int person) { w.at.erase(person); }

  PermitDesk& d() {
    if (!desk) desk = std::make_unique<PermitDesk>(std::make_shared<const Site>(site), people);
    return *desk;
  }

  static PermitCommand cmd(const std::string& action, const std::string& id, const std::string& by = "") {
    PermitCommand c;
    c.action = action;
    c.id = id;
    c.by = by;
    return c;
  }
  void run(Micros t, const PermitCommand& c) { d().command(t, c, w); }
  void step(Micros t) { d().step(t, w); }
  void steps(Micros from, Micros to, Micros every = kSecond) {
    for (Micros t = from; t <= to; t += every) step(t);
  }

  // an urgent reservation R1 for today, approved
  void reservation(const std::string& id = "R1", Micros t = 0) {
    PermitCommand r = cmd("reserve", id);
    r.type = "hot_work";
    r.area = box(0, 0, 10, 10);
    r.from = t;
    r.to = t + 8 * kHour;
    r.urgent = true;
    run(t, r);
    run(t, cmd("approve_reservation", id, "P03"));
  }

  static PermitCommand hot(const std::string& id = "W1", const std::string& grade = "2") {
    PermitCommand c = cmd("apply", id);
    c.reservation = "R1";
    c.type = "hot_work";
    c.grade = grade;
    c.area = box(0, 0, 10, 10);
    c.workers = {"P01"};
    c.guardian = "P02";
    c.approver = "P03";
    c.from = sec(60);
    c.to = 4 * kHour;
    return c;
  }
  static PermitCommand typed(const std::string& type, const std::string& id) {
    PermitCommand c = hot(id, "");
    c.type = type;
    return c;
  }

  static GasReadings good() {
    GasReadings g;
    g.flammable_volpct = 0.1;
    g.gas_lel_pct = 5;
    g.o2_volpct = 20.9;
    return g;
  }
  void gas(Micros t, const std::string& id = "W1", GasReadings r = good()) {
    PermitCommand c = cmd("gas", id, "P04");
    c.readings = std::move(r);
    run(t, c);
  }
  void prepare(Micros t, const std::string& id = "W1") {
    run(t, cmd("risk_analysis", id));
    run(t, cmd("confirm_measures", id));
  }
  // risk analysis, measures, fresh gas and the approval at t
  void sign(Micros t, const std::string& id = "W1", const std::string& approver = "P03") {
    prepare(t, id);
    gas(t, id);
    run(t, cmd("approve", id, approver));
  }
  void brief(Micros t, const std::string& id, std::vector<std::string> who) {
    PermitCommand c = cmd("brief", id);
    c.signed_by = std::move(who);
    run(t, c);
  }
  // reservation, apply, sign, brief and start, all at t
  void begin(const PermitCommand& apply, Micros t = sec(60)) {
    reservation();
    run(t, apply);
    sign(t, apply.id);
    std::vector<std::string> all = apply.workers;
    all.push_back(apply.guardian);
    brief(t, apply.id, all);
    run(t, cmd("start", apply.id));
    place(P03, 500, 500);  // the approver leaves once the work has started
  }

  // ---- what happened ----
  std::string status(const std::string& id) const {
    for (auto it = w.statuses.rbegin(); it != w.statuses.rend(); ++it)
      if (it->id == id) return it->status;
    return "";
  }
  std::optional<Codes> refused(const std::string& id, const std::string& action) const {
    for (auto it = w.refusals.rbegin(); it != w.refusals.rend(); ++it)
      if (it->permit == id && it->action == action) return it->codes;
    return std::nullopt;
  }
  std::vector<const FakeWorld::Raised*> raised(const std::string& type, const std::string& code = "*") const {
    std::vector<const FakeWorld::Raised*> out;
    for (const auto& r : w.alarms)
      if (to_string(r.alarm.type) == type && (code == "*" || to_string(r.alarm.code) == code)) out.push_back(&r);
    return out;
  }
  size_t count(const std::string& type, const std::string& code = "*") const { return raised(type, code).size(); }
  const PermitAlarm* first(const std::string& type) const {
    const auto v = raised(type);
    return v.empty() ? nullptr : &v.front()->alarm;
  }
  PermitRecord record(const std::string& id) {
    for (const PermitRecord& r : d().permits())
      if (r.id == id) return r;
    ADD_FAILURE() << "no permit " << id;
    return {};
  }
  std::string grade_of(PermitCommand c) {
    reservation();
    run(0, c);
    return record(c.id).grade;
  }
};

// ---- SO-01 reservations --------------------------------------------------------------------

TEST(PermitDesk, SO01_NormalReservationNeedsFromAtLeastOneDayAhead) {
  Desk d;
  PermitCommand r = Desk::cmd("reserve", "R1");
  r.type = "height";
  r.area = box(0, 0, 10, 10);
  r.from = kDay;
  r.to = kDay + kHour;
  d.run(0, r);
  EXPECT_EQ(d.status("R1"), "reserved") << "exactly one day ahead";
  r.id = "R2";
  r.from = kDay - kSecond;
  d.run(0, r);
  ASSERT_TRUE(d.refused("R2", "reserve"));
  EXPECT_TRUE(d.refused("R2", "reserve")->empty()) << "refused with no code";
  EXPECT_EQ(d.status("R2"), "");
  EXPECT_TRUE(d.w.alarms.empty());
}

TEST(PermitDesk, SO01_UrgentReservationSameDayOnly) {
  Desk d;
  PermitCommand r = Desk::cmd("reserve", "R1");
  r.type = "hot_work";
  r.area = box(0, 0, 10, 10);
  r.urgent = true;
  r.from = 0;  // before the command, same day
  r.to = 4 * kHour;
  d.run(2 * kHour, r);
  EXPECT_EQ(d.status("R1"), "reserved");
  r.id = "R2";
  r.from = 16 * kHour - kSecond;  // 23:59:59 the same day
  d.run(2 * kHour, r);
  EXPECT_EQ(d.status("R2"), "reserved");
  r.id = "R3";
  r.from = 16 * kHour;  // 00:00 the next day, less than a day ahead
  d.run(2 * kHour, r);
  EXPECT_TRUE(d.refused("R3", "reserve"));
  r.id = "R4";
  r.urgent = false;
  r.from = 2 * kHour;  // same day, not urgent
  d.run(2 * kHour, r);
  EXPECT_TRUE(d.refused("R4", "reserve"));
}

TEST(PermitDesk, SO01_ReservationReviewAndApplyNeedsAnApprovedOne) {
  Desk d;
  PermitCommand r = Desk::cmd("reserve", "R1");
  r.type = "hot_work";
  r.area = box(0, 0, 10, 10);
  r.urgent = true;
  r.from = 0;
  r.to = 4 * kHour;
  d.run(0, r);
  d.run(0, Desk::hot("W1"));  // reserved, not yet approved
  EXPECT_EQ(d.refused("W1", "apply"), Codes{});
  ASSERT_EQ(d.count("reservation_not_approved"), 1u);
  EXPECT_EQ(d.first("reservation_not_approved")->who, Codes{"P01"}) << "no `by`: the workers";
  EXPECT_EQ(d.first("reservation_not_approved")->permit, "W1");
  EXPECT_EQ(d.first("reservation_not_approved")->level, AlarmLevel::orange);
  EXPECT_FALSE(d.first("reservation_not_approved")->condition);
  d.run(1, Desk::cmd("reject_reservation", "R1", "P03"));
  EXPECT_EQ(d.status("R1"), "rejected");
  d.run(2, Desk::cmd("approve_reservation", "R1", "P03"));
  EXPECT_TRUE(d.refused("R1", "approve_reservation")) << "a rejected reservation stays rejected";
  d.run(3, Desk::hot("W1"));
  EXPECT_EQ(d.count("reservation_not_approved"), 2u);
  PermitCommand none = Desk::hot("W2");
  none.reservation = "R9";
  none.by = "P04";
  d.run(4, none);
  EXPECT_TRUE(d.refused("W2", "apply"));
  EXPECT_EQ(d.raised("reservation_not_approved").back()->alarm.who, Codes{"P04"});
  d.run(5, Desk::cmd("approve_reservation", "R9", "P03"));
  EXPECT_EQ(d.refused("R9", "approve_reservation"), Codes{});
  EXPECT_EQ(d.count("reservation_not_approved"), 3u) << "unknown reservation: no alarm";

  Desk ok;
  ok.reservation();
  ok.run(0, Desk::hot("W1"));
  EXPECT_EQ(ok.status("R1"), "approved");
  EXPECT_EQ(ok.status("W1"), "applied");
  EXPECT_EQ(ok.record("W1").aq2_code, 0);
  EXPECT_TRUE(ok.w.refusals.empty());
}

TEST(PermitDesk, SO01_CommandOnUnknownPermitRefusedWithoutAlarm) {
  Desk d;
  for (const char* a : {"risk_analysis", "confirm_measures", "gas", "approve", "brief", "start", "pause", "resume",
                        "handover", "accept", "revoke", "void"}) {
    d.run(0, Desk::cmd(a, "NOPE", "P03"));
    EXPECT_EQ(d.refused("NOPE", a), Codes{}) << a;
  }
  EXPECT_TRUE(d.w.alarms.empty());
  EXPECT_TRUE(d.w.statuses.empty());
}

// ---- SO-02 grades, validity, blind plates, upgrade ------------------------------------------

TEST(PermitDesk, SO02_HeightGradesAtBandBoundaries) {
  const std::vector<std::pair<double, std::string>> plain = {{1.99, ""}, {2, "I"},      {5, "I"},    {5.01, "II"},
                                                             {15, "II"}, {15.01, "III"}, {30, "III"}, {30.01, "IV"}};
  for (const auto& [h, g] : plain) {
    Desk d;
    PermitCommand c = Desk::typed("height", "H1");
    c.grade = "I";  // computed from height_m, the given grade is overridden
    c.height_m = h;
    EXPECT_EQ(d.grade_of(c), g) << h << " m";
  }
  const std::vector<std::pair<double, std::string>> factor = {
      {2, "II"}, {5, "II"}, {5.01, "III"}, {15, "III"}, {15.01, "IV"}, {30, "IV"}, {30.01, "IV"}};
  for (const auto& [h, g] : factor) {
    Desk d;
    PermitCommand c = Desk::typed("height", "H1");
    c.height_m = h;
    c.hazard_factors = {"wind"};
    EXPECT_EQ(d.grade_of(c), g) << h << " m with a hazard factor";
  }
}

TEST(PermitDesk, SO02_LiftingGradesAt10And40And100Tonnes) {
  const std::vector<std::pair<double, std::string>> cases = {
      {9.99, "3"}, {10, "3"}, {39.99, "3"}, {40, "2"}, {100, "2"}, {100.01, "1"}};
  for (const auto& [m, g] : cases) {
    Desk d;
    PermitCommand c = Desk::typed("lifting", "L1");
    c.load_t = m;
    EXPECT_EQ(d.grade_of(c), g) << m << " t";
  }
}

TEST(PermitDesk, SO02_HotWorkGradeDefaultsTo2AndForeignGradesAreRefused) {
  Desk d;
  EXPECT_EQ(d.grade_of(Desk::hot("W1", "")), "2");
  d.run(0, Desk::hot("W2", "IV"));
  EXPECT_EQ(d.refused("W2", "apply"), Codes{});
  Desk e;
  PermitCommand c = Desk::typed("confined_space", "C1");
  c.grade = "1";
  EXPECT_EQ(e.grade_of(c), "") << "ungraded type: the grade is ignored";
}

TEST(PermitDesk, SO04_ValidityExactlyTheMaximumAcceptedOneSecondMoreRefused) {
  struct Case {
    std::string type, grade;
    Micros max;
  };
  const std::vector<Case> cases = {{"hot_work", "2", 72 * kHour},  {"hot_work", "1", 8 * kHour},
                                   {"hot_work", "special", 8 * kHour}, {"confined_space", "", 24 * kHour},
                                   {"height", "", 7 * kDay},        {"temp_power", "", 15 * kDay}};
  for (const Case& k : cases) {
    Desk d;
    d.reservation();
    PermitCommand c = Desk::typed(k.type, "A");
    c.grade = k.grade;
    c.from = sec(60);
    c.to = sec(60) + k.max;
    d.run(0, c);
    EXPECT_EQ(d.status("A"), "applied") << k.type << " " << k.grade;
    c.id = "B";
    c.to = sec(60) + k.max + kSecond;
    d.run(0, c);
    EXPECT_EQ(d.refused("B", "apply"), Codes{}) << k.type << " " << k.grade;
    ASSERT_EQ(d.count("validity_too_long"), 1u) << k.type;
    EXPECT_EQ(d.first("validity_too_long")->code, Aq2Code::none);
    EXPECT_EQ(d.first("validity_too_long")->permit, "B");
  }
  Desk d;
  d.reservation();
  PermitCommand c = Desk::typed("blind_plate", "BP");
  c.blind = "insert";
  c.to = 400 * kDay;
  d.run(0, c);
  EXPECT_EQ(d.status("BP"), "applied") << "no maximum for blind plates";
}

TEST(PermitDesk, SO02_OneBlindPlatePermitForInsertAndRemoveRefusedWithCode20) {
  Desk d;
  d.reservation();
  PermitCommand c = Desk::typed("blind_plate", "BP1");
  c.blind = "both";
  d.run(0, c);
  EXPECT_EQ(d.refused("BP1", "apply"), Codes{"20"});
  ASSERT_EQ(d.count("blind_plate_both", "20"), 1u);
  EXPECT_EQ(d.first("blind_plate_both")->permit, "BP1");
  c.id = "BP2";
  c.blind = "remove";
  d.run(0, c);
  EXPECT_EQ(d.status("BP2"), "applied");
}

TEST(PermitDesk, SO02_HotWorkAtNightNotUpgradedRaises42ButIsNotRefused) {
  Desk d;
  d.reservation();
  PermitCommand c = Desk::hot("W1", "2");
  c.from = 12 * kHour;  // 20:00 local: night begins
  c.to = 14 * kHour;
  d.run(0, c);
  EXPECT_EQ(d.status("W1"), "applied");
  EXPECT_FALSE(d.refused("W1", "apply"));
  ASSERT_EQ(d.count("hot_work_not_upgraded"), 1u);
  EXPECT_EQ(d.first("hot_work_not_upgraded")->code, Aq2Code::c42);
  EXPECT_EQ(d.first("hot_work_not_upgraded")->level, AlarmLevel::orange);
  EXPECT_EQ(d.first("hot_work_not_upgraded")->permit, "W1");

  auto apply_at = [&](const std::string& id, Micros from, const std::string& grade = "2") {
    c.id = id;
    c.grade = grade;
    c.from = from;
    c.to = from + kHour;
    d.run(0, c);
  };
  apply_at("W2", 12 * kHour - kSecond);  // 19:59:59-20:59:59: runs into the night
  apply_at("W3", 22 * kHour);             // 06:00 the next morning (a Tuesday)
  apply_at("W4", 22 * kHour - kMinute);   // 05:59
  apply_at("W5", 12 * kHour, "1");        // upgraded
  apply_at("W6", 11 * kHour);             // 19:00-20:00: ends as the night begins
  apply_at("W7", 11 * kHour + kSecond);   // 19:00:01-20:00:01: one second of night
  std::vector<std::string> flagged;
  for (const auto* r : d.raised("hot_work_not_upgraded")) flagged.push_back(r->alarm.permit);
  EXPECT_EQ(flagged, (Codes{"W1", "W2", "W4", "W7"}));
}

TEST(PermitDesk, SO02_HotWorkInExplosionZoneMustBeSpecialAtNight) {
  Desk d;
  d.reservation();
  PermitCommand c = Desk::hot("W1", "1");
  c.area = box(150, 50, 160, 60);
  c.from = 13 * kHour;
  c.to = 14 * kHour;
  d.run(0, c);
  EXPECT_EQ(d.count("hot_work_not_upgraded", "42"), 1u) << "base 1 in the zone: 1 is not an upgrade";
  c.id = "W2";
  c.grade = "special";
  d.run(0, c);
  EXPECT_EQ(d.count("hot_work_not_upgraded"), 1u);
  c.id = "W3";
  c.grade = "1";
  c.area = box(95, 50, 105, 60);  // straddles the zone's edge, centroid inside it
  d.run(0, c);
  EXPECT_EQ(d.count("hot_work_not_upgraded"), 2u);
  c.id = "W4";
  c.grade = "2";
  c.from = sec(60);  // daytime on a workday: no upgrade rule applies
  c.to = sec(60) + kHour;
  d.run(0, c);
  EXPECT_EQ(d.count("hot_work_not_upgraded"), 2u);
}

TEST(PermitDesk, SO02_HotWorkOnHolidayRestDayAndSpecialPeriodCodes40To43) {
  Desk d;
  d.site.calendar.holidays = {d.day0 + 1};  // Tuesday
  d.site.calendar.workdays = {d.day0 + 12};  // the second Saturday is a make-up working day
  d.site.calendar.special_periods = {{d.w.clock.start_unix_s + 3600, d.w.clock.start_unix_s + 7200}};
  d.reservation();
  auto at = [&](const std::string& id, Micros from) {
    PermitCommand c = Desk::hot(id, "2");
    c.from = from;
    c.to = from + kHour;
    d.run(0, c);
    Codes codes;
    for (const auto* r : d.raised("hot_work_not_upgraded"))
      if (r->alarm.permit == id) codes.push_back(to_string(r->alarm.code));
    EXPECT_EQ(d.status(id), "applied") << id;
    return codes;
  };
  EXPECT_EQ(at("HOL", kDay + kHour), Codes{"40"}) << "holiday, not also a rest day";
  EXPECT_EQ(at("SAT", 5 * kDay + kHour), Codes{"41"});
  EXPECT_EQ(at("SUNNIGHT", 6 * kDay + 13 * kHour), (Codes{"41", "42"}));
  EXPECT_EQ(at("MAKEUP", 12 * kDay + kHour), Codes{}) << "make-up working day";
  EXPECT_EQ(at("SP_START", kHour), Codes{"43"});
  EXPECT_EQ(at("SP_END", 2 * kHour), Codes{"43"});
  EXPECT_EQ(at("SP_AFTER", 2 * kHour + kSecond), Codes{});
  EXPECT_EQ(at("MONDAY", 3 * kHour), Codes{});
}

TEST(PermitDesk, SO02_ApplyEvaluatesEveryRuleAndRaisesEachAlarmEvenWhenRefusing) {
  Desk d;
  PermitCommand c = Desk::hot("W1", "2");
  c.reservation = "";
  c.blind = "both";
  c.workers = {"P01", "P09"};
  c.from = 12 * kHour;
  c.to = 12 * kHour + 72 * kHour + kSecond;
  d.run(0, c);
  EXPECT_EQ(d.refused("W1", "apply"), (Codes{"20", "50"}));
  EXPECT_EQ(d.count("reservation_not_approved"), 1u);
  EXPECT_EQ(d.count("validity_too_long"), 1u);
  EXPECT_EQ(d.count("blind_plate_both", "20"), 1u);
  EXPECT_EQ(d.count("certificate_missing", "50"), 1u);
  EXPECT_EQ(d.first("certificate_missing")->who, Codes{"P09"});
  EXPECT_EQ(d.count("hot_work_not_upgraded", "42"), 1u);
  EXPECT_TRUE(d.d().permits().empty());
  d.run(1, Desk::cmd("risk_analysis", "W1"));
  EXPECT_EQ(d.refused("W1", "risk_analysis"), Codes{}) << "a refused apply leaves no permit";
}

// ---- SO-10 certificates ----------------------------------------------------------------------

TEST(PermitDesk, SO10_WorkerWithoutCertificateRefusedWithCode50) {
  Desk d;
  d.reservation();
  PermitCommand c = Desk::hot("W1");
  c.workers = {"P09"};
  d.run(0, c);
  EXPECT_EQ(d.refused("W1", "apply"), Codes{"50"});
  ASSERT_EQ(d.count("certificate_missing", "50"), 1u);
  EXPECT_EQ(d.first("certificate_missing")->who, Codes{"P09"});
  EXPECT_EQ(d.first("certificate_missing")->holder, "");
  EXPECT_EQ(d.status("W1"), "");
}

TEST(PermitDesk, SO10_CertificateValidOnItsExpiryDayExpiredTheDayAfter) {
  Desk d;
  d.people[P10].certificates = {{"welding", "W-10", d.day0, ""}};
  d.reservation();
  PermitCommand c = Desk::hot("W1");
  c.workers = {"P10"};
  d.run(16 * kHour - kSecond, c);  // 23:59:59 on the expiry day
  EXPECT_EQ(d.status("W1"), "applied");
  c.id = "W2";
  d.run(16 * kHour, c);  // 00:00 the next day
  EXPECT_EQ(d.refused("W2", "apply"), Codes{"51"});
  ASSERT_EQ(d.count("certificate_expired", "51"), 1u);
  EXPECT_EQ(d.first("certificate_expired")->who, Codes{"P10"});
  EXPECT_EQ(d.first("certificate_expired")->holder, "Name P10");
}

TEST(PermitDesk, SO10_HolderMismatchRefusedWithCode52NamingTheHolder) {
  Desk d;
  d.people[P10].certificates = {{"welding", "W-10", d.day0 + 100, "Someone Else"}};
  d.reservation();
  PermitCommand c = Desk::hot("W1");
  c.workers = {"P01", "P10"};
  d.run(0, c);
  EXPECT_EQ(d.refused("W1", "apply"), Codes{"52"});
  ASSERT_EQ(d.count("certificate_mismatch", "52"), 1u);
  EXPECT_EQ(d.first("certificate_mismatch")->who, Codes{"P10"});
  EXPECT_EQ(d.first("certificate_mismatch")->holder, "Someone Else");
  // the holder printed as the person's name is fine
  d.people[P10].certificates = {{"welding", "W-10", d.day0 + 100, "Name P10"}};
  Desk e;
  e.people = d.people;
  e.reservation();
  e.run(0, c);
  EXPECT_EQ(e.status("W1"), "applied");
}

TEST(PermitDesk, SO10_GuardianCertificateCheckedAtApplyAndHandover) {
  Desk d;
  d.reservation();
  PermitCommand c = Desk::hot("W1");
  c.guardian = "P05";
  d.run(0, c);
  EXPECT_EQ(d.refused("W1", "apply"), Codes{"50"});
  EXPECT_EQ(d.first("certificate_missing")->who, Codes{"P05"});

  Desk e;
  e.begin(Desk::hot("W1"));
  PermitCommand h = Desk::cmd("handover", "W1");
  h.guardian = "P08";  // no guardian certificate
  e.run(kHour, h);
  EXPECT_EQ(e.refused("W1", "handover"), Codes{"50"});
  EXPECT_EQ(e.first("certificate_missing")->who, Codes{"P08"});
  EXPECT_EQ(e.record("W1").guardian, "P02");
  h.guardian = "P07";  // certified; not briefed and not in the area: fine
  e.run(kHour + kSecond, h);
  EXPECT_EQ(e.record("W1").guardian, "P07");
  const auto hist = e.record("W1").history;
  ASSERT_FALSE(hist.empty());
  EXPECT_EQ(hist.back(), (std::pair<Micros, std::string>{kHour + kSecond, "handover P07"}));
  EXPECT_EQ(e.status("W1"), "in_progress");
}

TEST(PermitDesk, SO10_TempPowerWorkersNeedAnElectricianCertificate) {
  Desk d;
  d.reservation();
  PermitCommand c = Desk::typed("temp_power", "TP1");
  c.workers = {"P06"};  // welder, no electrician certificate
  d.run(0, c);
  EXPECT_EQ(d.refused("TP1", "apply"), Codes{"50"});
  c.id = "TP2";
  c.workers = {"P01"};
  d.run(0, c);
  EXPECT_EQ(d.status("TP2"), "applied");
}

// ---- SO-03 gas, approval --------------------------------------------------------------------

// apply W1, risk analysis and measures at 60 s; gas at 60 s with `readings`; approve at `approve_at`
struct ApproveRun {
  Desk d;
  explicit ApproveRun(const GasReadings& readings, Micros approve_at = sec(120)) {
    d.reservation();
    d.run(sec(60), Desk::hot("W1"));
    d.prepare(sec(60));
    d.gas(sec(60), "W1", readings);
    d.run(approve_at, Desk::cmd("approve", "W1", "P03"));
  }
  bool signed_() const { return d.status("W1") == "signed"; }
};

GasReadings reading(std::optional<double> flam, std::optional<double> lel, std::optional<double> o2) {
  GasReadings g;
  g.flammable_volpct = flam;
  g.gas_lel_pct = lel;
  g.o2_volpct = o2;
  return g;
}

TEST(PermitDesk, SO03_NoGasAnalysisAtApproveRefusedWithCode01Only) {
  Desk d;
  d.reservation();
  d.run(0, Desk::hot("W1"));
  d.prepare(0);
  d.run(sec(10), Desk::cmd("approve", "W1", "P03"));
  EXPECT_EQ(d.refused("W1", "approve"), Codes{"01"});
  ASSERT_EQ(d.count("gas_analysis_missing", "01"), 1u);
  EXPECT_EQ(d.first("gas_analysis_missing")->who, Codes{"P03"});
  EXPECT_EQ(d.count("gas_analysis_stale"), 0u);
  EXPECT_EQ(d.status("W1"), "applied");
}

TEST(PermitDesk, SO03_GasOlderThan30MinAtApproveRefusedWithCode02) {
  ApproveRun at(Desk::good(), sec(60) + 30 * kMinute);
  EXPECT_TRUE(at.signed_()) << "exactly 30 min old is fresh";
  ApproveRun late(Desk::good(), sec(60) + 30 * kMinute + kSecond);
  EXPECT_EQ(late.d.refused("W1", "approve"), Codes{"02"});
  EXPECT_EQ(late.d.count("gas_analysis_stale", "02"), 1u);
  EXPECT_EQ(late.d.count("gas_analysis_missing"), 0u) << "01 and 02 never come together";
  EXPECT_EQ(late.d.status("W1"), "applied");
}

TEST(PermitDesk, SO03_OxygenLimits19_5To21) {
  EXPECT_TRUE(ApproveRun(reading(0.1, 5, 19.5)).signed_());
  EXPECT_TRUE(ApproveRun(reading(0.1, 5, 21.0)).signed_());
  for (double o2 : {19.4, 21.1}) {
    ApproveRun r(reading(0.1, 5, o2));
    EXPECT_EQ(r.d.refused("W1", "approve"), Codes{}) << o2;
    ASSERT_EQ(r.d.count("gas_over_limit"), 1u) << o2;
    EXPECT_EQ(r.d.first("gas_over_limit")->code, Aq2Code::none);
  }
}

TEST(PermitDesk, SO03_FlammableLimitDependsOnLel) {
  EXPECT_TRUE(ApproveRun(reading(0.5, 4, 20.9)).signed_()) << "LEL 4 %: 0.5 %vol allowed";
  EXPECT_TRUE(ApproveRun(reading(0.5, 5, 20.9)).signed_());
  EXPECT_FALSE(ApproveRun(reading(0.51, 5, 20.9)).signed_());
  EXPECT_EQ(ApproveRun(reading(0.51, 5, 20.9)).d.count("gas_over_limit"), 1u);
  EXPECT_TRUE(ApproveRun(reading(0.2, 3.9, 20.9)).signed_()) << "LEL below 4 %: 0.2 %vol";
  EXPECT_FALSE(ApproveRun(reading(0.21, 3.9, 20.9)).signed_());
  EXPECT_FALSE(ApproveRun(reading(0.3, 3.9, 20.9)).signed_());
  EXPECT_TRUE(ApproveRun(reading(0.2, std::nullopt, 20.9)).signed_()) << "LEL unknown: the stricter limit";
  EXPECT_FALSE(ApproveRun(reading(0.21, std::nullopt, 20.9)).signed_());
}

TEST(PermitDesk, SO03_ToxicLimitsPerConfiguredSubstance) {
  GasReadings g = Desk::good();
  g.toxic["H2S"] = 10;
  g.toxic["NH3"] = 1000;  // no limit configured: not judged
  EXPECT_TRUE(ApproveRun(g).signed_());
  g.toxic["H2S"] = 10.01;
  ApproveRun over(g);
  EXPECT_FALSE(over.signed_());
  EXPECT_EQ(over.d.count("gas_over_limit"), 1u);
}

TEST(PermitDesk, SO03_NoRiskAnalysisAndMeasuresRefusedWithCodes80And90) {
  Desk d;
  d.reservation();
  d.run(0, Desk::hot("W1"));
  d.gas(0);
  d.run(sec(1), Desk::cmd("approve", "W1", "P03"));
  EXPECT_EQ(d.refused("W1", "approve"), (Codes{"80", "90"}));
  EXPECT_EQ(d.count("no_risk_analysis", "80"), 1u);
  EXPECT_EQ(d.count("measures_not_confirmed", "90"), 1u);
  d.run(sec(2), Desk::cmd("risk_analysis", "W1"));
  d.run(sec(3), Desk::cmd("approve", "W1", "P03"));
  EXPECT_EQ(d.refused("W1", "approve"), Codes{"90"});
  d.run(sec(4), Desk::cmd("confirm_measures", "W1"));
  d.run(sec(5), Desk::cmd("approve", "W1", "P03"));
  EXPECT_EQ(d.status("W1"), "signed");
  EXPECT_EQ(d.record("W1").aq2_code, 1);
  EXPECT_EQ(d.record("W1").approvals, Codes{"P03"});
}

TEST(PermitDesk, SO03_GasRequiredForTempPowerOnlyInExplosionZones) {
  Desk d;
  d.reservation();
  PermitCommand c = Desk::typed("temp_power", "TP1");
  d.run(0, c);
  d.prepare(0, "TP1");
  d.run(sec(1), Desk::cmd("approve", "TP1", "P03"));
  EXPECT_EQ(d.status("TP1"), "signed") << "outside explosion zones no analysis is needed";
  c.id = "TP2";
  c.area = box(95, 0, 105, 10);  // overlaps EX
  d.run(0, c);
  d.prepare(0, "TP2");
  d.place(P03, 100, 5);
  d.run(sec(1), Desk::cmd("approve", "TP2", "P03"));
  EXPECT_EQ(d.refused("TP2", "approve"), Codes{"01"});
}

// ---- PL-12 approver on site, approval chain -------------------------------------------------

TEST(PermitDesk, PL12_ApproverWithin20mOfAreaOnSite20_1mNotCode30) {
  Desk d;
  d.place(P03, 30, 5);  // 20 m east of the area's edge
  d.reservation();
  d.run(0, Desk::hot("W1"));
  d.sign(0);
  EXPECT_EQ(d.status("W1"), "signed");

  Desk e;
  e.place(P03, 30.1, 5);
  e.reservation();
  e.run(0, Desk::hot("W1"));
  e.sign(0);
  EXPECT_EQ(e.refused("W1", "approve"), Codes{"30"});
  ASSERT_EQ(e.count("approver_not_on_site", "30"), 1u);
  EXPECT_EQ(e.first("approver_not_on_site")->who, Codes{"P03"});
  EXPECT_EQ(e.first("approver_not_on_site")->level, AlarmLevel::orange);
  e.lose(P03);
  e.run(sec(1), Desk::cmd("approve", "W1", "P03"));
  EXPECT_EQ(e.refused("W1", "approve"), Codes{"30"}) << "unknown position: not on site";
  e.place(P03, 10, 10, "2");  // on the area's corner, another floor: on site
  e.run(sec(2), Desk::cmd("approve", "W1", "P03"));
  EXPECT_EQ(e.status("W1"), "signed");
}

TEST(PermitDesk, SO02_OnlyTheNamedApproverMayApproveWithoutAChain) {
  Desk d;
  d.place(P08, 5, 5);
  d.reservation();
  d.run(0, Desk::hot("W1"));
  d.sign(0, "W1", "P08");
  EXPECT_EQ(d.refused("W1", "approve"), Codes{});
  EXPECT_TRUE(d.w.alarms.empty()) << "no authority: no code and no alarm";
  EXPECT_EQ(d.status("W1"), "applied");
}

TEST(PermitDesk, SO02_ApprovalChainByRoleInOrder) {
  Desk d;
  d.site.rules.approval["hot_work"]["2"] = {"workshop_head", "safety"};
  d.place(P08, 40, 5);  // 30 m away at first
  d.reservation();
  d.run(0, Desk::hot("W1"));
  d.prepare(0);
  d.gas(0);
  d.run(sec(1), Desk::cmd("approve", "W1", "P08"));
  EXPECT_EQ(d.refused("W1", "approve"), Codes{}) << "safety may not sign before the workshop head";
  const size_t refusals = d.w.refusals.size();
  d.run(sec(2), Desk::cmd("approve", "W1", "P03"));
  EXPECT_EQ(d.w.refusals.size(), refusals);
  EXPECT_EQ(d.status("W1"), "applied") << "one approval of two";
  EXPECT_EQ(d.record("W1").approvals, Codes{"P03"});
  d.run(sec(3), Desk::cmd("approve", "W1", "P03"));
  EXPECT_EQ(d.w.refusals.back().t, sec(3)) << "the workshop head cannot sign twice";
  d.run(sec(4), Desk::cmd("approve", "W1", "P08"));
  EXPECT_EQ(d.refused("W1", "approve"), Codes{"30"}) << "every approver must be on site";
  d.place(P08, 5, 5);
  d.run(sec(5), Desk::cmd("approve", "W1", "P08"));
  EXPECT_EQ(d.status("W1"), "signed");
  EXPECT_EQ(d.record("W1").approvals, (Codes{"P03", "P08"}));
}

// ---- SO-02 linked permits ----------------------------------------------------------------------

TEST(PermitDesk, SO02_LinkedPermitMissingCode61NotLinkedBackCode62) {
  Desk d;
  d.reservation();
  PermitCommand w = Desk::hot("W1");
  w.linked = {"C1"};
  d.run(0, w);
  d.sign(0);
  EXPECT_EQ(d.refused("W1", "approve"), Codes{"61"});
  EXPECT_EQ(d.count("linked_permit_missing", "61"), 1u);

  PermitCommand c = Desk::typed("confined_space", "C1");
  c.workers = {"P06"};
  d.run(sec(1), c);  // lists nothing
  d.run(sec(2), Desk::cmd("approve", "W1", "P03"));
  EXPECT_EQ(d.refused("W1", "approve"), Codes{"62"});
  EXPECT_EQ(d.count("permit_not_linked", "62"), 1u);

  Desk e;
  e.reservation();
  e.run(0, w);
  PermitCommand back = c;
  back.linked = {"W1"};
  e.run(0, back);
  e.sign(0);
  EXPECT_EQ(e.status("W1"), "signed");
  e.run(sec(1), Desk::cmd("revoke", "C1"));
  e.run(sec(2), Desk::hot("W2"));  // unlinked, overlapping a revoked confined space: fine
  e.sign(sec(2), "W2");
  EXPECT_EQ(e.status("W2"), "signed");
}

TEST(PermitDesk, SO02_HotWorkOverlappingConfinedSpaceWithoutLinkCode62) {
  Desk d;
  d.reservation();
  PermitCommand c = Desk::typed("confined_space", "C1");
  c.area = box(5, 5, 20, 20);
  c.workers = {"P06"};
  d.run(0, c);
  d.place(P03, 20, 5);  // within 20 m of every area below
  d.run(0, Desk::hot("W1"));
  d.sign(0);
  EXPECT_EQ(d.refused("W1", "approve"), Codes{"62"});
  // elsewhere, or at another time: no link needed
  PermitCommand far = Desk::hot("W2");
  far.area = box(30, 0, 40, 10);
  d.run(sec(1), far);
  d.sign(sec(1), "W2");
  EXPECT_EQ(d.status("W2"), "signed");
  PermitCommand later = Desk::hot("W3");
  later.from = 5 * kHour;
  later.to = 6 * kHour;
  d.run(sec(2), later);
  d.sign(sec(2), "W3");
  EXPECT_EQ(d.status("W3"), "signed");
  PermitCommand upstairs = Desk::hot("W4");
  upstairs.floor = "2";
  c.id = "C2";
  c.floor = "1";
  d.run(sec(3), c);
  d.run(sec(3), upstairs);
  d.sign(sec(3), "W4");
  EXPECT_EQ(d.refused("W4", "approve"), Codes{"62"}) << "C1 has no floor: it counts on every floor";
}

// ---- SO-03 briefing, start, pause, resume -----------------------------------------------------

TEST(PermitDesk, SO03_StartNeedsBriefingSignedByEveryWorkerAndGuardianCode70) {
  Desk d;
  d.reservation();
  PermitCommand w = Desk::hot("W1");
  w.workers = {"P01", "P06"};
  d.run(0, w);
  d.sign(0);
  d.brief(0, "W1", {"P01"});
  d.run(sec(1), Desk::cmd("start", "W1"));
  EXPECT_EQ(d.refused("W1", "start"), Codes{"70"});
  ASSERT_EQ(d.count("no_briefing", "70"), 1u);
  EXPECT_EQ(d.first("no_briefing")->who, (Codes{"P02", "P06"}));
  d.brief(sec(2), "W1", {"P06", "P02"});
  d.run(sec(3), Desk::cmd("start", "W1"));
  EXPECT_EQ(d.status("W1"), "in_progress");
  EXPECT_EQ(d.record("W1").aq2_code, 2);
}

TEST(PermitDesk, SO03_GasAtStartAtMost30MinOld) {
  for (const Micros age : {30 * kMinute, 30 * kMinute + kSecond}) {
    Desk d;
    d.reservation();
    d.run(0, Desk::hot("W1"));
    d.sign(0);
    d.brief(0, "W1", {"P01", "P02"});
    d.run(age, Desk::cmd("start", "W1"));
    if (age == 30 * kMinute) {
      EXPECT_EQ(d.status("W1"), "in_progress");
    } else {
      EXPECT_EQ(d.refused("W1", "start"), Codes{"02"});
      EXPECT_EQ(d.first("gas_analysis_stale")->who, Codes{"P01"}) << "no `by`: the workers";
      EXPECT_EQ(d.status("W1"), "signed");
    }
  }
}

TEST(PermitDesk, SO04_InvalidTransitionsRefusedWithoutCodeOrAlarm) {
  Desk d;
  d.reservation();
  d.run(0, Desk::hot("W1"));
  for (const char* a : {"start", "pause", "resume", "accept", "void"}) {
    d.run(sec(1), Desk::cmd(a, "W1"));
    EXPECT_EQ(d.refused("W1", a), Codes{}) << a << " on an applied permit";
  }
  EXPECT_TRUE(d.w.alarms.empty());
  d.run(sec(2), Desk::hot("W1"));
  EXPECT_EQ(d.refused("W1", "apply"), Codes{}) << "duplicate id";
  d.run(sec(3), Desk::cmd("revoke", "W1"));
  EXPECT_EQ(d.status("W1"), "revoked");
  EXPECT_EQ(d.record("W1").aq2_code, 5);
  d.run(sec(4), Desk::cmd("approve", "W1", "P03"));
  EXPECT_EQ(d.refused("W1", "approve"), Codes{});
  EXPECT_TRUE(d.w.alarms.empty());
}

TEST(PermitDesk, SO04_StatusCodesThroughTheLifecycle) {
  Desk d;
  d.begin(Desk::hot("W1"));
  d.run(kHour, Desk::cmd("revoke", "W1"));
  EXPECT_EQ(d.refused("W1", "revoke"), Codes{}) << "revoke is before work only";
  d.run(kHour, Desk::cmd("pause", "W1"));
  EXPECT_EQ(d.record("W1").aq2_code, 6);
  d.run(kHour + kMinute, Desk::cmd("accept", "W1"));
  EXPECT_EQ(d.status("W1"), "accepted");
  EXPECT_EQ(d.record("W1").aq2_code, 3);
  d.run(kHour + 2 * kMinute, Desk::cmd("void", "W1"));
  EXPECT_EQ(d.refused("W1", "void"), Codes{});

  Desk e;
  e.begin(Desk::hot("W1"));
  e.run(kHour, Desk::cmd("void", "W1"));
  EXPECT_EQ(e.status("W1"), "void");
  EXPECT_EQ(e.record("W1").aq2_code, 4);
  Codes hist;
  for (const auto& [t, what] : e.record("W1").history) hist.push_back(what);
  EXPECT_EQ(hist, (Codes{"applied", "risk_analysis", "measures_confirmed", "gas P04", "approval P03", "signed",
                         "brief P01 P02", "in_progress", "void"}));
  EXPECT_STREQ(to_string(PermitStatus::signed_), "signed");
  EXPECT_EQ(aq2_status_code(PermitStatus::applied), 0);
}

// pause at 1 h for `pause`; optional gas during the pause; resume
std::optional<Codes> pause_resume(PermitCommand apply, Micros pause, std::optional<Micros> gas_at = std::nullopt,
                                  GasReadings readings = Desk::good(), Desk* out = nullptr) {
  Desk local;
  Desk& d = out ? *out : local;
  d.begin(apply);
  d.run(kHour, Desk::cmd("pause", apply.id));
  EXPECT_EQ(d.status(apply.id), "paused");
  if (gas_at) d.gas(*gas_at, apply.id, readings);
  d.run(kHour + pause, Desk::cmd("resume", apply.id));
  if (d.status(apply.id) == "in_progress") return std::nullopt;
  return d.refused(apply.id, "resume");
}

TEST(PermitDesk, SO03_PauseOver30MinSpecialAndGrade1HotWorkNeedsReanalysisCode03) {
  for (const char* g : {"special", "1"}) {
    PermitCommand w = Desk::hot("W1", g);
    EXPECT_FALSE(pause_resume(w, 30 * kMinute)) << g << ": exactly 30 min";
    Desk d;
    EXPECT_EQ(pause_resume(w, 30 * kMinute + kSecond, std::nullopt, Desk::good(), &d), Codes{"03"}) << g;
    EXPECT_EQ(d.count("reanalysis_required", "03"), 1u);
    EXPECT_EQ(d.status("W1"), "paused");
    EXPECT_FALSE(pause_resume(w, 30 * kMinute + kSecond, kHour + 10 * kMinute)) << g << ": new analysis";
    EXPECT_EQ(pause_resume(w, 30 * kMinute + kSecond, kHour - kSecond), Codes{"03"})
        << g << ": an analysis before the pause does not count";
  }
}

TEST(PermitDesk, SO03_PauseOver60MinGrade2AndConfinedSpaceNeedsReanalysis) {
  PermitCommand c = Desk::typed("confined_space", "C1");
  for (const PermitCommand& w : {Desk::hot("W1", "2"), c}) {
    EXPECT_FALSE(pause_resume(w, 60 * kMinute)) << w.type;
    EXPECT_EQ(pause_resume(w, 60 * kMinute + kSecond), Codes{"03"}) << w.type;
  }
  PermitCommand tp = Desk::typed("temp_power", "TP1");
  EXPECT_FALSE(pause_resume(tp, 150 * kMinute)) << "temp power outside explosion zones needs no analysis";
}

TEST(PermitDesk, SO03_ReanalysisOverTheLimitsRefusesResume) {
  Desk d;
  EXPECT_EQ(pause_resume(Desk::hot("W1", "2"), 2 * kHour, kHour + 90 * kMinute, reading(0.1, 5, 19.4), &d), Codes{});
  EXPECT_EQ(d.count("gas_over_limit"), 1u);
  EXPECT_EQ(d.count("reanalysis_required"), 0u);
}

// ---- SO-04 expiry ------------------------------------------------------------------------------

TEST(PermitDesk, SO04_PermitExpiresAfterItsToCode10) {
  Desk d;
  d.reservation();
  d.run(0, Desk::hot("W1"));
  d.sign(0);
  d.run(0, Desk::hot("W2"));  // applied only: never expires
  d.step(4 * kHour);
  EXPECT_EQ(d.status("W1"), "signed") << "at its `to` the permit is still valid";
  d.step(4 * kHour + kSecond);
  EXPECT_EQ(d.status("W1"), "expired");
  ASSERT_EQ(d.count("permit_expired", "10"), 1u);
  const PermitAlarm* a = d.first("permit_expired");
  EXPECT_EQ(a->level, AlarmLevel::red);
  EXPECT_EQ(a->permit, "W1");
  EXPECT_EQ(a->who, (Codes{"P01", "P02"}));
  EXPECT_EQ(d.record("W1").aq2_code, 1) << "an expired permit keeps its code";
  EXPECT_EQ(d.record("W1").status, PermitStatus::expired);
  EXPECT_EQ(d.status("W2"), "applied");
  d.step(5 * kHour);
  EXPECT_EQ(d.count("permit_expired"), 1u);
  d.brief(5 * kHour, "W1", {"P01", "P02"});
  EXPECT_EQ(d.refused("W1", "brief"), Codes{});
}

TEST(PermitDesk, SO04_CommandAfterToFindsThePermitExpired) {
  Desk d;
  d.begin(Desk::hot("W1"));
  d.run(kHour, Desk::cmd("pause", "W1"));
  d.run(4 * kHour + kSecond, Desk::cmd("resume", "W1"));
  EXPECT_EQ(d.refused("W1", "resume"), Codes{});
  EXPECT_EQ(d.status("W1"), "expired");
  EXPECT_EQ(d.record("W1").aq2_code, 6);
  EXPECT_EQ(d.count("permit_expired"), 1u);
}

// ---- PL-12 linkage while in progress ---------------------------------------------------------

TEST(PermitDesk, PL12_GuardianMoreThan5mOutsideForMoreThan3sRaisesCode31) {
  Desk d;
  d.begin(Desk::hot("W1"));
  d.place(P02, 15, 5);  // exactly 5 m outside
  d.steps(sec(100), sec(120));
  EXPECT_EQ(d.count("guardian_absent"), 0u);
  d.place(P02, 15.1, 5);
  d.step(sec(121));
  d.step(sec(124));
  EXPECT_EQ(d.count("guardian_absent"), 0u) << "3 s away";
  d.step(sec(124) + kMs);
  ASSERT_EQ(d.count("guardian_absent", "31"), 1u);
  const auto* r = d.raised("guardian_absent").front();
  EXPECT_EQ(r->alarm.level, AlarmLevel::red);
  EXPECT_EQ(r->alarm.who, Codes{"P02"});
  EXPECT_EQ(r->alarm.permit, "W1");
  EXPECT_TRUE(r->alarm.condition);
  d.steps(sec(125), sec(130));
  EXPECT_EQ(d.count("guardian_absent"), 1u) << "one alarm while away";
  d.place(P02, 14, 5);
  d.step(sec(131));
  EXPECT_EQ(r->cleared, sec(131));
  EXPECT_EQ(d.status("W1"), "in_progress") << "guardian_absent does not change the status";
}

TEST(PermitDesk, PL12_GuardianWithUnknownPositionIsAbsentAndHandoverResets) {
  Desk d;
  d.begin(Desk::hot("W1"));
  d.lose(P02);
  d.steps(sec(100), sec(104));
  ASSERT_EQ(d.count("guardian_absent"), 1u);
  PermitCommand h = Desk::cmd("handover", "W1");
  h.guardian = "P07";
  d.place(P07, 5, 5);
  d.run(sec(105), h);
  EXPECT_EQ(d.raised("guardian_absent").front()->cleared, sec(105));
  d.steps(sec(105), sec(120));
  EXPECT_EQ(d.count("guardian_absent"), 1u);
  EXPECT_EQ(d.count("unauthorized_in_work_area"), 0u) << "the new guardian belongs there";
}

TEST(PermitDesk, PL12_PersonNotOnPermitInAreaForMoreThan3s) {
  Desk d;
  d.begin(Desk::hot("W1"));
  d.place(P05, 10, 5);  // on the edge: inside
  d.step(sec(100));
  d.step(sec(103));
  EXPECT_EQ(d.count("unauthorized_in_work_area"), 0u);
  d.step(sec(103) + kMs);
  ASSERT_EQ(d.count("unauthorized_in_work_area"), 1u);
  const auto* r = d.raised("unauthorized_in_work_area").front();
  EXPECT_EQ(r->alarm.who, Codes{"P05"});
  EXPECT_EQ(r->alarm.level, AlarmLevel::red);
  EXPECT_EQ(r->alarm.permit, "W1");
  d.place(P05, 10.1, 5);
  d.step(sec(104));
  EXPECT_EQ(r->cleared, sec(104));
  EXPECT_EQ(d.status("W1"), "in_progress");
  // workers and the guardian are never flagged; the approver is not on the permit
  d.place(P03, 5, 5);
  d.steps(sec(105), sec(110));
  EXPECT_EQ(d.count("unauthorized_in_work_area"), 2u);
  EXPECT_EQ(d.raised("unauthorized_in_work_area").back()->alarm.who, Codes{"P03"});
}

TEST(PermitDesk, PL12_WorkAreaOnAFloorIgnoresOtherFloors) {
  Desk d;
  PermitCommand w = Desk::hot("W1");
  w.floor = "2";
  d.place(P03, 5, 5, "2");
  d.begin(w);
  d.place(P03, 50, 5);
  d.place(P05, 5, 5, "1");
  d.steps(sec(100), sec(110));
  EXPECT_EQ(d.count("unauthorized_in_work_area"), 0u);
  d.place(P05, 5, 5, "2");
  d.steps(sec(111), sec(115));
  EXPECT_EQ(d.count("unauthorized_in_work_area"), 1u);
}

TEST(PermitDesk, PL12_LinkageStopsWhenPausedOrAccepted) {
  Desk d;
  d.begin(Desk::hot("W1"));
  d.lose(P02);
  d.place(P05, 5, 5);
  d.steps(sec(100), sec(104));
  ASSERT_EQ(d.count("guardian_absent"), 1u);
  ASSERT_EQ(d.count("unauthorized_in_work_area"), 1u);
  d.run(sec(105), Desk::cmd("pause", "W1"));
  EXPECT_EQ(d.raised("guardian_absent").front()->cleared, sec(105));
  EXPECT_EQ(d.raised("unauthorized_in_work_area").front()->cleared, sec(105));
  d.steps(sec(106), sec(120));
  EXPECT_EQ(d.count("guardian_absent"), 1u);
}

// ---- SO-03 gas during work ---------------------------------------------------------------------

TEST(PermitDesk, SO03_ConfinedSpaceGasRecordEvery2hCode05) {
  Desk d;
  PermitCommand c = Desk::typed("confined_space", "C1");
  c.to = 20 * kHour;
  d.begin(c);  // started at 60 s
  d.step(sec(60) + 2 * kHour);
  EXPECT_EQ(d.count("gas_record_overdue"), 0u);
  d.step(sec(61) + 2 * kHour);
  ASSERT_EQ(d.count("gas_record_overdue", "05"), 1u);
  EXPECT_EQ(d.first("gas_record_overdue")->level, AlarmLevel::orange);
  d.gas(sec(70) + 2 * kHour, "C1");
  EXPECT_EQ(d.raised("gas_record_overdue").front()->cleared, sec(70) + 2 * kHour);
  d.step(sec(70) + 4 * kHour);
  EXPECT_EQ(d.count("gas_record_overdue"), 1u);
  d.step(sec(71) + 4 * kHour);
  EXPECT_EQ(d.count("gas_record_overdue"), 2u);
}

TEST(PermitDesk, SO03_MultiDayGrade2HotWorkNeedsEachDaysAnalysisCode04) {
  Desk d;
  PermitCommand w = Desk::hot("W1", "2");
  w.to = sec(60) + 48 * kHour;
  d.begin(w);
  d.step(16 * kHour - kSecond);  // 23:59:59
  EXPECT_EQ(d.count("daily_analysis_missing"), 0u);
  d.step(16 * kHour);  // midnight: the first step of the new day
  ASSERT_EQ(d.count("daily_analysis_missing", "04"), 1u);
  d.step(17 * kHour);
  EXPECT_EQ(d.count("daily_analysis_missing"), 1u);
  d.gas(18 * kHour);
  EXPECT_EQ(d.raised("daily_analysis_missing").front()->cleared, 18 * kHour);
  // the next day's analysis given before its first step
  d.gas(40 * kHour);
  d.step(40 * kHour);
  EXPECT_EQ(d.count("daily_analysis_missing"), 1u);

  Desk one;
  PermitCommand w1 = Desk::hot("W1", "1");
  w1.from = 15 * kHour;  // 23:00, night: upgraded to 1
  w1.to = 17 * kHour;
  one.begin(w1, 15 * kHour);
  one.step(16 * kHour);
  EXPECT_EQ(one.count("daily_analysis_missing"), 0u) << "grade 1 is not checked";
}

// ---- PL-12 / SO-07 work without a permit --------------------------------------------------------

TEST(PermitDesk, PL12_ContractorInPermitRequiredZoneOver120sWithoutPermitCode60) {
  Desk d;
  d.place(P06, 350, 50);
  d.place(P04, 360, 50);  // an employee: not working by default
  d.step(sec(10));
  d.step(sec(130));
  EXPECT_EQ(d.count("work_without_permit"), 0u) << "120 s";
  d.step(sec(130) + kMs);
  ASSERT_EQ(d.count("work_without_permit", "60"), 1u);
  const auto* r = d.raised("work_without_permit").front();
  EXPECT_EQ(r->alarm.who, Codes{"P06"});
  EXPECT_EQ(r->alarm.zone, "PR");
  EXPECT_EQ(r->alarm.level, AlarmLevel::red);
  d.place(P06, 401, 50);
  d.step(sec(140));
  EXPECT_EQ(r->cleared, sec(140));
}

TEST(PermitDesk, PL12_InProgressPermitCoversTheSpot) {
  Desk d;
  PermitCommand w = Desk::hot("W1");
  w.area = box(340, 40, 360, 60);
  w.workers = {"P06"};
  d.place(P03, 350, 50);
  d.place(P02, 345, 50);
  d.place(P06, 350, 50);
  d.begin(w);
  d.place(P03, 500, 500);
  d.steps(sec(60), sec(300), 10 * kSecond);
  EXPECT_EQ(d.count("work_without_permit"), 0u);
  d.run(sec(300), Desk::cmd("pause", "W1"));  // a paused permit does not cover
  d.steps(sec(301), sec(421));
  EXPECT_EQ(d.count("work_without_permit"), 0u) << "120 s since the pause";
  d.step(sec(422));
  EXPECT_EQ(d.count("work_without_permit"), 1u);
  d.run(sec(432), Desk::cmd("resume", "W1"));
  d.step(sec(432));
  EXPECT_EQ(d.raised("work_without_permit").front()->cleared, sec(432));
}

TEST(PermitDesk, PL12_WorkRolesReplaceTheContractorDefault) {
  Desk d;
  d.site.rules.work_roles = {"analyst"};
  d.site.rules.work_without_permit_after = 10 * kSecond;
  d.place(P04, 350, 50);  // employee with role analyst
  d.place(P09, 351, 50);  // contractor without the role
  d.steps(0, sec(11));
  ASSERT_EQ(d.count("work_without_permit"), 1u);
  EXPECT_EQ(d.first("work_without_permit")->who, Codes{"P04"});
}

TEST(PermitDesk, PL12_ZoneFloorsRespected) {
  Desk d;
  d.site.zones[1].floors = {"2"};
  d.place(P06, 350, 50, "1");
  d.steps(0, sec(200), 10 * kSecond);
  EXPECT_EQ(d.count("work_without_permit"), 0u);
}

}  // namespace
}  // namespace planttwin::test
