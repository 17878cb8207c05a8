// Gathering (PL-02; AQ 3064.3 3.5 and 5.2.3): at least `yellow` people (3) who fit in one disk of
// radius rules.gathering.radius (15 m, exact smallest enclosing circle: engine/gathering_geometry.h)
// on one floor, each for more than the dwell (60 s). Tiers yellow / orange / red by the fewest
// people (3, 4, 7); raised once at the highest tier reached, a higher tier later is an `escalated`
// event on the same id; the level never goes down. Identity: a group continues the tracked
// gathering it shares most people with (oldest on a tie); a member who drops out starts again.
// Only people whose latest fix is current count (rules.gathering.fix_max_age for irregular report
// times). A candidate ends at the first step its group is gone; a raised gathering survives breaks
// up to clear_after. The people in it are warned (5.2.3 b), newcomers too; from confirm_close_from
// (orange) a person must confirm dispersal to close it (5.2.3 c: acknowledgement.cpp).
#include <algorithm>

#include "engine/alarm_lifecycle.h"
#include "engine/rules/rules.h"

namespace planttwin::rules {

namespace {

AlarmLevel level_of(Risk r) {
  switch (r) {
    case Risk::red: return AlarmLevel::red;
    case Risk::orange: return AlarmLevel::orange;
    case Risk::yellow: return AlarmLevel::yellow;
    case Risk::blue: return AlarmLevel::blue;
    case Risk::none: break;
  }
  return AlarmLevel::none;
}

AlarmLevel tier(const GatheringRules& gr, const GatheringTrack& g, Micros t) {
  int n = 0;
  for (const auto& mem : g.members)
    if (t - mem.second > gr.dwell) ++n;
  if (n >= gr.red) return AlarmLevel::red;
  if (n >= gr.orange) return AlarmLevel::orange;
  if (n >= gr.yellow) return AlarmLevel::yellow;
  return AlarmLevel::none;
}

}  // namespace

void gathering(const EngineModel& m, EngineState& s, GatheringScratch& x, Micros t) {
  const Rules& rules = m.rules();
  const GatheringRules& gr = rules.gathering;
  const size_t floors = std::max<size_t>(1, m.floor_ids.size());
  if (x.finders.size() != floors) x.finders.resize(floors);
  if (x.use_reference && x.reference_finders.size() != floors) x.reference_finders.resize(floors);
  x.floor_points.resize(floors);
  for (auto& fp : x.floor_points) fp.clear();
  // only people whose latest fix is current count: a missing fix is not bridged (scenario-v1
  // "Alarms"); a raised gathering rides out the gap through clear_after instead
  for (size_t pi = 0; pi < s.people.size(); ++pi) {
    const PersonState& p = s.people[pi];
    if (!p.has_fix || !p.on_site || p.floor < 0) continue;
    const Micros age = t - p.last_fix;
    if (gr.fix_max_age > 0) {
      if (age > gr.fix_max_age) continue;
    } else if (p.report_interval > 0 ? age >= p.report_interval : age > rules.tag_offline_after) {
      continue;
    }
    x.floor_points[static_cast<size_t>(p.floor)].push_back({p.pos, static_cast<std::uint32_t>(pi)});
  }
  std::vector<GatheringTrack>& tracks = s.gatherings;
  x.matched.assign(tracks.size(), 0);
  // person -> the track they were last in, so matching costs O(members), not O(tracks)
  x.track_of.assign(s.people.size(), -1);
  for (size_t k = 0; k < tracks.size(); ++k)
    for (const auto& mem : tracks[k].members)
      if (x.track_of[static_cast<size_t>(mem.first)] < 0) x.track_of[static_cast<size_t>(mem.first)] = static_cast<int>(k);
  x.fresh_tracks.clear();
  const GatheringGeometryOptions opt{gr.radius, gr.yellow};
  for (size_t f = 0; f < x.floor_points.size(); ++f) {
    if (static_cast<int>(x.floor_points[f].size()) < gr.yellow) continue;
    if (x.use_reference) x.reference_finders[f].find(x.floor_points[f], opt, x.groups);
    else x.finders[f].find(x.floor_points[f], opt, x.groups);
    for (const DiskGroup& g : x.groups) {
      // continue the track that shares the most people with this group (oldest on a tie)
      x.overlap.clear();
      for (std::uint32_t mem : g.members) {
        const int k = x.track_of[mem];
        if (k < 0 || x.matched[static_cast<size_t>(k)] || tracks[static_cast<size_t>(k)].floor != static_cast<int>(f)) continue;
        auto it = std::find_if(x.overlap.begin(), x.overlap.end(), [k](const std::pair<int, int>& o) { return o.first == k; });
        if (it == x.overlap.end()) x.overlap.emplace_back(k, 1);
        else ++it->second;
      }
      int best = -1, best_overlap = 0;
      for (const auto& [k, n] : x.overlap)
        if (n > best_overlap || (n == best_overlap && k < best)) best_overlap = n, best = k;
      x.next_members.clear();
      for (std::uint32_t mem : g.members) x.next_members.emplace_back(static_cast<int>(mem), t);
      if (best >= 0) {
        GatheringTrack& old = tracks[static_cast<size_t>(best)];
        x.matched[static_cast<size_t>(best)] = 1;
        for (auto& mem : x.next_members) {
          auto it = std::lower_bound(old.members.begin(), old.members.end(), mem.first,
                                     [](const std::pair<int, Micros>& a, int v) { return a.first < v; });
          if (it != old.members.end() && it->first == mem.first) mem.second = it->second;
        }
        std::swap(old.members, x.next_members);
        old.center = g.center;
        old.broken = false;
      } else {
        // most groups of walkers last a step: their buffers are reused rather than reallocated
        GatheringTrack& fresh = x.fresh_tracks.emplace_back();
        if (!x.spare_members.empty()) {
          fresh.members = std::move(x.spare_members.back());
          x.spare_members.pop_back();
        }
        fresh.members.assign(x.next_members.begin(), x.next_members.end());
        fresh.floor = static_cast<int>(f);
        fresh.center = g.center;
      }
    }
  }
  // tracks no group continued: a candidate ends at once; a raised gathering clears once broken
  // for more than clear_after, so one noisy fix does not flap it
  x.kept.clear();
  for (size_t k = 0; k < tracks.size(); ++k) {
    GatheringTrack& g = tracks[k];
    bool ended = false;
    if (!x.matched[k]) {
      if (g.alarm < 0) {
        ended = true;
      } else {
        if (!g.broken) g.broken = true, g.broken_since = t;
        if (t - g.broken_since > gr.clear_after) {
          int a = g.alarm;
          clear_alarm(s, a, t);
          ended = true;
        }
      }
    }
    if (ended) x.spare_members.push_back(std::move(g.members));
    else x.kept.push_back(std::move(g));
  }
  for (auto& g : x.fresh_tracks) x.kept.push_back(std::move(g));
  std::swap(tracks, x.kept);
  const AlarmLevel confirm_from = level_of(gr.confirm_close_from);
  for (GatheringTrack& g : tracks) {
    if (g.broken) continue;
    const AlarmLevel level = tier(gr, g, t);
    if (level == AlarmLevel::none) continue;
    bool changed = false;
    if (g.alarm < 0) {
      std::vector<std::string> who;
      for (const auto& mem : g.members) who.push_back(m.people[static_cast<size_t>(mem.first)].id);
      g.alarm = raise_alarm(m, s, t, AlarmType::gathering, level, who, m.zone_at(g.center, g.floor), g.center, g.floor);
      changed = true;
    } else if (rank(level) > rank(s.alarms[static_cast<size_t>(g.alarm)].level)) {
      escalate_alarm(s, g.alarm, t, level);
      changed = true;
    }
    Alarm& a = s.alarms[static_cast<size_t>(g.alarm)];
    a.needs_confirmation = rank(a.level) >= rank(confirm_from);
    // the people in the group are warned (AQ3 5.2.3 b), newcomers too
    for (const auto& mem : g.members) {
      auto it = std::lower_bound(g.warned.begin(), g.warned.end(), mem.first);
      if (it != g.warned.end() && *it == mem.first) continue;
      g.warned.insert(it, mem.first);
      const std::string& id = m.people[static_cast<size_t>(mem.first)].id;
      if (std::find(a.who.begin(), a.who.end(), id) == a.who.end()) {
        a.who.insert(std::lower_bound(a.who.begin(), a.who.end(), id), id);
        changed = true;
      }
      warn_person(m, s, t, mem.first, a.id, "gathering");
    }
    if (changed) {
      GatheringOutput out;
      out.alarm_id = a.id;
      out.level = a.level;
      for (const auto& mem : g.members) out.members.push_back(m.people[static_cast<size_t>(mem.first)].id);
      out.center = g.center;
      out.floor = m.floor_name(g.floor);
      out.radius = gr.radius;
      s.outputs.push_back({t, std::move(out)});
    }
  }
}

}  // namespace planttwin::rules
