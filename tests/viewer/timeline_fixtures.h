// Helpers of the timeline tests: load a scenario, make a timeline, and write what the viewer
// draws as text so that two timelines compare in one assertion with a readable diff.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "scenarios/loader.h"
#include "viewer/timeline.h"

namespace planttwin::viewer::test {

inline Scenario load(const std::string& rel) {
  Scenario sc;
  auto err = load_scenario_file(std::string(PLANTTWIN_SOURCE_DIR) + "/" + rel, sc);
  EXPECT_FALSE(err) << (err ? err->to_string() : "");
  return sc;
}

inline std::unique_ptr<Timeline> make(const Scenario& sc, TimelineOptions opt = {}) {
  std::string error;
  auto tl = Timeline::create(sc, opt, error);
  EXPECT_TRUE(tl) << error;
  return tl;
}

// Everything the viewer draws, as text.
inline std::string dump(const Timeline& tl) {
  const Snapshot& s = tl.snapshot();
  std::string o = "t=" + std::to_string(s.t) + "\n";
  for (const auto& p : s.people)
    o += p.id + " " + std::to_string(p.has_fix) + " " + std::to_string(p.pos.x) + "," + std::to_string(p.pos.y) + " " + p.floor + " " +
         std::to_string(p.last_fix) + " " + std::to_string(p.offline) + "\n";
  for (const Alarm& a : s.open_alarms) {
    o += a.id + " " + to_string(a.type) + " " + to_string(a.level) + " routed=" + a.routed_to + "\n";
    for (const AlarmEvent& e : a.events) o += "  " + canonical_alarm_line(a, e) + " note=" + e.note + "\n";
  }
  for (const auto& g : s.gatherings) o += "G " + g.alarm_id + " " + to_string(g.level) + " " + std::to_string(g.center.x) + "," + std::to_string(g.center.y) + "\n";
  for (const auto& z : s.zones) o += "Z " + z.id + " " + std::to_string(z.count) + " " + std::to_string(z.active) + "\n";
  for (const PermitRecord& p : s.permits) o += "P " + p.id + " " + to_string(p.status) + "\n";
  for (const TruthPose& t : tl.truth()) o += "T " + std::to_string(t.p.x) + "," + std::to_string(t.p.y) + " " + t.floor + "\n";
  return o;
}

// The canonical lines of every alarm event, sorted (the run's stream is in output order).
inline std::string sorted_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t a = 0;
  for (size_t b; (b = text.find('\n', a)) != std::string::npos; a = b + 1) lines.push_back(text.substr(a, b - a + 1));
  std::sort(lines.begin(), lines.end());
  std::string o;
  for (const auto& l : lines) o += l;
  return o;
}

inline std::string stream(const AlarmLog& alarms) {
  std::string o;
  for (const Alarm& a : alarms)
    for (const AlarmEvent& e : a.events) o += canonical_alarm_line(a, e);
  return sorted_lines(o);
}

inline std::string hex(double v) {
  char b[40];
  std::snprintf(b, sizeof b, "%a", v);
  return b;
}

// What a run has produced up to now, exactly: what the viewer draws (snapshot, true poses), every
// alarm and the oracle's, the canonical stream, every fix error bit for bit, the kept snapshots.
inline std::string everything(const Timeline& tl, bool with_kept = true) {
  std::string o = dump(tl);
  o += "alarms\n" + stream(tl.alarms());
  if (tl.oracle_alarms()) o += "oracle\n" + stream(*tl.oracle_alarms());
  o += "stream\n" + tl.canonical_stream();
  o += "errors " + std::to_string(tl.fix_errors().size()) + "\n";
  for (double e : tl.fix_errors()) o += hex(e) + " ";
  if (!with_kept) return o;
  o += "\nkept every " + std::to_string(tl.keep_every()) + "\n";
  for (const KeptSnapshot& k : tl.kept()) {
    o += std::to_string(k.snap.t) + " on_site=" + std::to_string(k.on_site) + " alarms=" + std::to_string(k.snap.open_alarms.size());
    for (const auto& p : k.snap.people) o += " " + hex(p.pos.x) + "," + hex(p.pos.y);
    for (const TruthPose& t : k.truth) o += " " + hex(t.p.x) + "," + hex(t.p.y);
    o += "\n";
  }
  return o;
}

// Equal to a fresh timeline at the same time: what it shows and the engine's whole state.
inline void expect_same(const Timeline& a, const Timeline& b, const std::string& what, bool with_kept = true) {
  EXPECT_EQ(a.now(), b.now()) << what;
  EXPECT_EQ(everything(a, with_kept), everything(b, with_kept)) << what;
  EXPECT_TRUE(a.engine().state() == b.engine().state()) << what << ": the engine states differ";
}

// Deterministic pseudo-random times in [0, end] (SplitMix64).
inline std::vector<Micros> random_times(Micros end, int n, std::uint64_t seed) {
  std::vector<Micros> v;
  for (int i = 0; i < n; ++i) {
    std::uint64_t z = (seed += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    v.push_back(static_cast<Micros>(z % static_cast<std::uint64_t>(end + 1)));
  }
  return v;
}

}  // namespace planttwin::viewer::test
