// Gas analysis (SO-03; GB 30871-2022 5.3 and 6.3; AQ 3064.2 codes 01-05): hot work, confined
// space, and temporary power in an explosion-hazard zone need an analysis at most rules.gas.max_age
// old (30 min; exactly that is fresh) at approval and at start (01 none, 02 stale) with readings
// within the limits (gas_over_limit); after a pause longer than the type's pause_reanalysis a new
// analysis before resuming (03); grade-2 hot work over several days one analysis each local day
// (04, at the first step in progress that day); a confined space a record every
// rules.gas.record_every (05, counted from the latest record, the entry analysis included).
#include "engine/rules/permit_common.h"

namespace planttwin::permit_rules {

bool needs_gas(const Permit& p) {
  return p.rec.type == "hot_work" || p.rec.type == "confined_space" || (p.rec.type == "temp_power" && p.explosion);
}

bool within_limits(const GasReadings& r, const Rules::Gas& g) {
  if (r.flammable_volpct) {
    const bool high_lel = r.gas_lel_pct && *r.gas_lel_pct >= 4;
    const double limit = high_lel ? g.flammable_volpct : g.flammable_volpct_low_lel;
    if (*r.flammable_volpct > limit + kEps) return false;
  }
  if (r.o2_volpct && (*r.o2_volpct < g.o2_min - kEps || *r.o2_volpct > g.o2_max + kEps)) return false;
  for (const auto& [substance, ppm] : r.toxic) {
    const auto lim = g.toxic.find(substance);
    if (lim != g.toxic.end() && ppm > lim->second + kEps) return false;
  }
  return true;
}

void check_gas(const Site& site, const Permit& p, Micros t, const std::vector<std::string>& who, std::vector<Failure>& fails) {
  if (p.gas.empty()) {
    fails.push_back(coded(Aq2Code::c01, who));
    return;
  }
  const PermitGasRecord& last = p.gas.back();
  if (t - last.t > site.rules.gas.max_age) fails.push_back(coded(Aq2Code::c02, who));
  if (!within_limits(last.readings, site.rules.gas)) fails.push_back({Aq2Code::none, AlarmType::gas_over_limit, who, ""});
}

void gas(Micros t, const PermitCommand& c, Permit& p, PermitWorld& world) {
  if (!live(p.rec.status)) return refuse_plain(world, t, c);
  p.gas.push_back({t, world.local(t).days_since_epoch, c.by, c.readings});
  p.rec.history.emplace_back(t, c.by.empty() ? std::string("gas") : "gas " + c.by);
  world.clear(p.record_alarm, t);
  world.clear(p.daily_alarm, t);
}

void check_reanalysis(const Site& site, const Permit& p, Micros t, const PermitCommand& c, std::vector<Failure>& fails) {
  const Micros* limit = lookup(site.rules.pause_reanalysis, p.rec.type, p.rec.grade);
  const bool gas_type = p.rec.type != "temp_power" || p.explosion;
  if (!limit || !gas_type || t - p.paused_at <= *limit) return;
  const PermitGasRecord* after = nullptr;
  for (const PermitGasRecord& g : p.gas)
    if (g.t >= p.paused_at) after = &g;
  const std::vector<std::string> who = default_who(c, p.rec.workers);
  if (!after)
    fails.push_back(coded(Aq2Code::c03, who));
  else if (!within_limits(after->readings, site.rules.gas))
    fails.push_back({Aq2Code::none, AlarmType::gas_over_limit, who, ""});
}

void gas_timers(const Site& site, Permit& p, Micros t, PermitWorld& world) {
  const Rules& rules = site.rules;
  // confined space: a gas record every record_every (05)
  if (p.rec.type == "confined_space") {
    // from the latest record, before or after the start (the entry analysis counts)
    const Micros since = p.gas.empty() ? p.started_at : p.gas.back().t;
    if (p.record_alarm < 0 && t - since > rules.gas.record_every)
      p.record_alarm = raise(world, t, AlarmType::gas_record_overdue, Aq2Code::c05, p.rec.workers, p.rec.id,
                             centroid_of(p.area), p.rec.floor, true);
  }
  // multi-day grade-2 hot work: the day's analysis (04)
  if (p.rec.type == "hot_work" && p.rec.grade == "2") {
    const std::int64_t today = world.local(t).days_since_epoch;
    if (today > p.checked_day) {
      p.checked_day = today;
      bool analysed = false;
      for (const PermitGasRecord& g : p.gas)
        if (g.day == today) analysed = true;
      if (!analysed && p.daily_alarm < 0)
        p.daily_alarm = raise(world, t, AlarmType::daily_analysis_missing, Aq2Code::c04, p.rec.workers, p.rec.id,
                              centroid_of(p.area), p.rec.floor, true);
    }
  }
}

}  // namespace planttwin::permit_rules
