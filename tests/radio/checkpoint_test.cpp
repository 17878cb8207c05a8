// Checkpoints of the simulator (issue 12, H-01): the simulated positioning pipeline saved in the
// middle of a run and loaded into a fresh one (with the same or another number of lanes) goes on
// with bit-identical fixes, link statistics and counters; histograms and random streams round-trip;
// truncated, damaged or mismatched input is refused without a crash.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "engine/byte_codec.h"
#include "sim/motion.h"
#include "sim/radio/positioning.h"
#include "sim/radio/radio.h"
#include "tests/radio/radio_fixtures.h"

namespace planttwin {
namespace {

using namespace radio_fixtures;

std::uint64_t bits(double v) {
  std::uint64_t b = 0;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

// The square site with a ground floor, a two-storey building around the centre anchor, two low
// anchors (3D solves near them), a metal cabinet (reflection locks) and a concrete wall (NLOS).
Site plant() {
  Site s = square_site();
  s.floors = {{"1", -1, 4}};
  Building b;
  b.id = "B";
  b.footprint.pts = {{12, 12}, {20, 12}, {20, 20}, {12, 20}};
  b.footprint.finalize();
  b.floors = {{"B1", -1, 4}, {"B2", 4, 8}};
  s.buildings.push_back(b);
  s.anchors.push_back({"A6", {8, 22, 1.0}});
  s.anchors.push_back({"A7", {22, 8, 1.0}});
  return s;
}

BoxesLos plant_los() {
  BoxesLos los(kMats);
  los.add({5, 5, 0}, {7, 7, 2.5}, "metal");
  los.add({24, 2, 0}, {24.3, 28, 4}, "concrete");
  return los;
}

RadioParams params(const Site& site, bool tdoa) {
  RadioParams p = radio_defaults(site);
  std::string key, msg;
  // more outliers than the defaults, so that the solver rejects and gates within a short run
  std::map<std::string, std::string> o = {{"outliers.medium_rate", "0.02"}, {"outliers.large_rate", "0.01"}};
  if (tdoa) o["mode"] = "tdoa";
  EXPECT_TRUE(apply_radio_overrides(o, p, key, msg)) << key << ": " << msg;
  return p;
}

// `tags` tags over `seconds` one-second slices, blinking once a second at their own phase: circles
// through the yard and the building (odd tags upstairs inside it), tag 2 silent from 20 s to 35 s
// (longer than the filter's reset), tag 3 jumping at 45 s. Each blink's floor as a barometer
// would give it.
std::vector<std::vector<Blink>> slices(const Site& site, int tags, int seconds) {
  std::vector<std::vector<Blink>> out(static_cast<size_t>(seconds));
  std::vector<std::uint64_t> number(static_cast<size_t>(tags), 0);
  for (int s = 0; s < seconds; ++s)
    for (int tag = 0; tag < tags; ++tag) {
      if (tag == 2 && s >= 20 && s < 36) continue;
      const double a = 0.07 * s + 0.9 * tag;
      const double r = tag % 3 == 0 ? 3.0 : 11.0;
      double x = 16 + r * std::cos(a), y = 16 + r * std::sin(a);
      if (tag == 3 && s >= 45) x += 9;
      const bool inside = x > 12 && x < 20 && y > 12 && y < 20;
      const double z = inside && tag % 2 ? 5.2 : 1.2;
      const std::string floor = floor_at(site, x, y, z);
      out[static_cast<size_t>(s)].push_back(
          {s * kSecond + tag * 37 * kMillisecond, tag, number[static_cast<size_t>(tag)]++, {x, y, z}, floor});
    }
  for (auto& sl : out)
    std::sort(sl.begin(), sl.end(), [](const Blink& a, const Blink& b) { return a.t != b.t ? a.t < b.t : a.tag < b.tag; });
  return out;
}

struct Bench {
  const Site& site;
  const BoxesLos& los;
  RadioParams p;
  const std::vector<std::vector<Blink>>& blinks;
  SimulatedPositioning make(int threads, bool link_stats = true, std::uint64_t seed = 11) const {
    return SimulatedPositioning(site, p, los, seed, PipelineOptions{threads, link_stats, true});
  }
};

// Slices [from, to): every fix, each slice's after the previous ones (SimFix::blink per slice).
std::vector<SimFix> feed(SimulatedPositioning& pipe, const std::vector<std::vector<Blink>>& blinks, size_t from, size_t to) {
  std::vector<SimFix> out;
  for (size_t s = from; s < to; ++s) pipe.process(blinks[s], 1.0, out);
  return out;
}

std::string saved(const SimulatedPositioning& pipe) {
  ByteWriter w;
  pipe.save(w);
  return w.take();
}

void expect_same_fixes(const std::vector<SimFix>& a, const std::vector<SimFix>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    const SimFix &x = a[i], &y = b[i];
    EXPECT_EQ(x.blink, y.blink) << i;
    EXPECT_EQ(x.links_tried, y.links_tried) << i;
    EXPECT_EQ(x.links_received, y.links_received) << i;
    EXPECT_EQ(x.fix.t_measured, y.fix.t_measured) << i;
    EXPECT_EQ(x.fix.t_available, y.fix.t_available) << i;
    EXPECT_EQ(bits(x.fix.x), bits(y.fix.x)) << i;
    EXPECT_EQ(bits(x.fix.y), bits(y.fix.y)) << i;
    EXPECT_EQ(bits(x.fix.z), bits(y.fix.z)) << i;
    EXPECT_EQ(bits(x.fix.residual_rms), bits(y.fix.residual_rms)) << i;
    EXPECT_EQ(bits(x.fix.sigma_m), bits(y.fix.sigma_m)) << i;
    EXPECT_EQ(x.fix.floor, y.fix.floor) << i;
    EXPECT_EQ(x.fix.z_solved, y.fix.z_solved) << i;
    EXPECT_EQ(x.fix.anchors_used, y.fix.anchors_used) << i;
    EXPECT_EQ(x.fix.anchors_heard, y.fix.anchors_heard) << i;
    EXPECT_EQ(x.fix.anchors_rejected, y.fix.anchors_rejected) << i;
  }
}

void expect_same_stats(const SimulatedPositioning& a, const SimulatedPositioning& b) {
  const PipelineCounters ca = a.counters(), cb = b.counters();
  EXPECT_EQ(ca.blinks, cb.blinks);
  EXPECT_EQ(ca.fixes, cb.fixes);
  EXPECT_EQ(ca.no_fix, cb.no_fix);
  EXPECT_EQ(ca.rays, cb.rays);
  EXPECT_EQ(ca.links_received, cb.links_received);
  EXPECT_EQ(ca.collisions, cb.collisions);
  const auto la = a.link_stats(), lb = b.link_stats();
  ASSERT_EQ(la.size(), lb.size());
  for (auto ia = la.begin(), ib = lb.begin(); ia != la.end(); ++ia, ++ib) {
    EXPECT_EQ(ia->first, ib->first);
    EXPECT_EQ(ia->second.tries, ib->second.tries);
    EXPECT_EQ(ia->second.nlos, ib->second.nlos);
    EXPECT_EQ(ia->second.dropped, ib->second.dropped);
    EXPECT_EQ(ia->second.collided, ib->second.collided);
    EXPECT_EQ(ia->second.error.n(), ib->second.error.n());
    EXPECT_EQ(bits(ia->second.error.mean()), bits(ib->second.error.mean()));
    for (double q : {0.05, 0.5, 0.6827, 0.95, 1.0})
      EXPECT_EQ(bits(ia->second.error.quantile(q)), bits(ib->second.error.quantile(q)));
  }
  EXPECT_TRUE(saved(a) == saved(b)) << "saved states differ";
}

// Runs `seconds` slices uninterrupted with `threads_a` lanes, saving at `cut`; a fresh pipeline with
// `threads_b` lanes loads the checkpoint; both go on to the end and must agree in every bit.
void resume(bool tdoa, int threads_a, int threads_b) {
  const Site site = plant();
  const BoxesLos los = plant_los();
  const auto blinks = slices(site, 8, 60);
  const Bench run{site, los, params(site, tdoa), blinks};
  const size_t cut = 30;
  SimulatedPositioning a = run.make(threads_a);
  const std::vector<SimFix> first = feed(a, blinks, 0, cut);
  const std::string bytes = saved(a);

  SimulatedPositioning b = run.make(threads_b);
  ByteReader r(bytes);
  ASSERT_TRUE(b.load(r)) << r.error();
  EXPECT_TRUE(r.at_end());
  expect_same_stats(a, b);

  const std::vector<SimFix> rest_a = feed(a, blinks, cut, blinks.size());
  const std::vector<SimFix> rest_b = feed(b, blinks, cut, blinks.size());
  expect_same_fixes(rest_a, rest_b);
  expect_same_stats(a, b);

  // the run did what the state has to carry: fixes, misses, NLOS, drops, floors upstairs, 3D
  const PipelineCounters c = a.counters();
  EXPECT_GT(c.fixes, c.blinks * 8 / 10);
  EXPECT_GT(c.no_fix, 0u);
  std::uint64_t nlos = 0, dropped = 0;
  for (const auto& [key, ls] : a.link_stats()) nlos += ls.nlos, dropped += ls.dropped;
  EXPECT_GT(nlos, 0u);
  EXPECT_GT(dropped, 0u);
  bool upstairs = false, three_d = false;
  for (const SimFix& f : first) upstairs = upstairs || f.fix.floor == "B2", three_d = three_d || f.fix.z_solved;
  EXPECT_TRUE(upstairs);
  if (!tdoa) {
    EXPECT_TRUE(three_d);
  }

  // and the same as a pipeline that never stopped, with one lane
  std::vector<std::vector<SimFix>> ref_fixes;
  std::vector<std::string> ref_states;  // before each slice, and at the end
  {
    SimulatedPositioning ref = run.make(1);
    for (const std::vector<Blink>& sl : blinks) {
      ref_states.push_back(saved(ref));
      ref_fixes.emplace_back();
      ref.process(sl, 1.0, ref_fixes.back());
    }
    ref_states.push_back(saved(ref));
  }
  std::vector<SimFix> all = first;
  all.insert(all.end(), rest_b.begin(), rest_b.end());
  std::vector<SimFix> ref_all;
  for (const auto& f : ref_fixes) ref_all.insert(ref_all.end(), f.begin(), f.end());
  expect_same_fixes(ref_all, all);

  // checkpoints every 5 slices, each loaded into a fresh pipeline that goes on for 8 slices: every
  // tag's state at many moments (in the speed gate, silent, upstairs, after the jump)
  const size_t n = blinks.size();
  SimulatedPositioning m = run.make(threads_a);
  for (size_t s = 0; s < n; ++s) {
    if (s % 5 == 0) {
      const std::string state = saved(m);
      EXPECT_TRUE(state == ref_states[s]) << "state before slice " << s;
      SimulatedPositioning resumed = run.make(threads_b);
      ByteReader rc(state);
      ASSERT_TRUE(resumed.load(rc)) << rc.error();
      for (size_t k = s; k < std::min(n, s + 8); ++k) {
        std::vector<SimFix> out;
        resumed.process(blinks[k], 1.0, out);
        expect_same_fixes(ref_fixes[k], out);
      }
      EXPECT_TRUE(saved(resumed) == ref_states[std::min(n, s + 8)]) << "resumed at slice " << s;
    }
    std::vector<SimFix> out;
    m.process(blinks[s], 1.0, out);
    expect_same_fixes(ref_fixes[s], out);
  }
}

TEST(SimCheckpoint, H01_PipelineResumedFromCheckpointGivesIdenticalFixes) { resume(false, 1, 1); }
TEST(SimCheckpoint, H01_PipelineCheckpointFromOneLaneLoadsIntoThree) { resume(false, 1, 3); }
TEST(SimCheckpoint, H01_PipelineCheckpointFromThreeLanesLoadsIntoTwo) { resume(false, 3, 2); }
TEST(SimCheckpoint, H01_PipelineCheckpointFromFourLanesLoadsIntoOne) { resume(false, 4, 1); }
TEST(SimCheckpoint, H01_TdoaPipelineResumedWithAnotherLaneCount) { resume(true, 2, 3); }

TEST(SimCheckpoint, H01_CheckpointBytesDoNotDependOnTheLaneCount) {
  const Site site = plant();
  const BoxesLos los = plant_los();
  const auto blinks = slices(site, 8, 25);
  const Bench run{site, los, params(site, false), blinks};
  std::string first;
  for (int threads : {1, 2, 3, 5}) {
    SimulatedPositioning p = run.make(threads);
    feed(p, blinks, 0, blinks.size());
    if (first.empty()) first = saved(p);
    else EXPECT_TRUE(saved(p) == first) << threads << " lanes";
  }
  // and a fresh pipeline saves a state that loads (nothing processed yet)
  SimulatedPositioning fresh = run.make(2), other = run.make(3);
  const std::string empty = saved(fresh);  // the reader keeps a view: the bytes must outlive it
  ByteReader r(empty);
  EXPECT_TRUE(other.load(r)) << r.error();
}

TEST(SimCheckpoint, H01_PipelineCheckpointRefusesAnotherSetUpAndChangesNothing) {
  const Site site = plant();
  const BoxesLos los = plant_los();
  const auto blinks = slices(site, 4, 10);
  const Bench run{site, los, params(site, false), blinks};
  SimulatedPositioning a = run.make(1);
  feed(a, blinks, 0, 5);
  const std::string bytes = saved(a);

  SimulatedPositioning b = run.make(2);
  feed(b, blinks, 0, 2);
  const std::string before = saved(b);
  auto refused = [&](SimulatedPositioning& p, const std::string& in, const std::string& why) {
    ByteReader r(in);
    EXPECT_FALSE(p.load(r)) << why;
    EXPECT_NE(r.error().find(why), std::string::npos) << r.error();
  };
  SimulatedPositioning seed = run.make(1, true, 12);
  refused(seed, bytes, "seed");
  SimulatedPositioning no_stats = run.make(1, false);
  refused(no_stats, bytes, "link statistics");
  SimulatedPositioning no_baro(site, run.p, los, 11, PipelineOptions{1, true, false});
  refused(no_baro, bytes, "barometer");
  const Bench tdoa{site, los, params(site, true), blinks};
  SimulatedPositioning other_mode = tdoa.make(1);
  refused(other_mode, bytes, "mode");
  Site fewer = site;
  fewer.anchors.pop_back();
  SimulatedPositioning other_site(fewer, run.p, los, 11, PipelineOptions{1, true, true});
  refused(other_site, bytes, "anchors");
  refused(b, "not a checkpoint at all", "not a simulated positioning state");
  std::string later = bytes;
  later[4] = 9;
  refused(b, later, "version");
  // a link naming an anchor the site lacks: walk the format to the first link's anchor
  ByteReader walk(bytes);
  walk.u32(), walk.u32(), walk.u64(), walk.u64(), walk.u8(), walk.boolean(), walk.boolean();
  for (int i = 0; i < 6; ++i) walk.u64();
  walk.str();
  for (size_t i = 0, n = walk.size(12); i < n; ++i) walk.i32(), walk.str();
  ASSERT_GT(walk.size(104), 0u);
  walk.i32();
  ASSERT_TRUE(walk.ok());
  std::string far = bytes;
  far[walk.position()] = 99;
  refused(b, far, "anchor");
  EXPECT_TRUE(saved(b) == before);  // nothing above changed b
}

TEST(SimCheckpoint, H01_TruncatedOrDamagedCheckpointIsRefusedOrHarmless) {
  const Site site = plant();
  const BoxesLos los = plant_los();
  const auto blinks = slices(site, 4, 14);
  const Bench run{site, los, params(site, false), blinks};
  SimulatedPositioning a = run.make(2);
  feed(a, blinks, 0, 8);
  const std::string bytes = saved(a);
  ASSERT_GT(bytes.size(), 1000u);
  // every prefix up to 2 KB, then every 13th: all refused
  size_t tried = 0;
  for (size_t n = 0; n < bytes.size(); n += n < 2048 ? 1 : 13) {
    SimulatedPositioning b = run.make(1);
    ByteReader r(std::string_view(bytes).substr(0, n));
    EXPECT_FALSE(b.load(r)) << "prefix of " << n << " of " << bytes.size() << " bytes";
    ++tried;
  }
  EXPECT_GT(tried, 2000u);
  // byte flips at pseudo-random places: refused, or loaded and the pipeline still runs
  GaussianStream g(99);
  int refused = 0, loaded = 0;
  for (int k = 0; k < 400; ++k) {
    std::string bad = bytes;
    const size_t at = static_cast<size_t>(g.uniform() * static_cast<double>(bad.size()));
    bad[at] = static_cast<char>(bad[at] ^ (1 + static_cast<int>(g.uniform() * 255)));
    SimulatedPositioning b = run.make(1 + k % 3);
    ByteReader r(bad);
    if (!b.load(r)) {
      ++refused;
      EXPECT_FALSE(r.error().empty());
      continue;
    }
    ++loaded;
    feed(b, blinks, 8, 10);
    b.link_stats();
    b.counters();
  }
  EXPECT_GT(refused, 0);
  EXPECT_EQ(refused + loaded, 400);
}

// --- histograms and random streams ----------------------------------------------------------------

TEST(SimCheckpoint, H06_HistogramRoundTripKeepsQuantilesAndGoesOnTheSame) {
  ErrorHistogram h(-1.0, 6.0, 0.002);
  GaussianStream g(5);
  for (int i = 0; i < 3000; ++i) h.add(0.3 * g.next() + (i % 97 == 0 ? 9.0 : 0.0) - (i % 211 == 0 ? 2.0 : 0.0));
  ByteWriter w;
  h.save(w);
  ErrorHistogram k(-1.0, 6.0, 0.002);
  ByteReader r(w.bytes());
  ASSERT_TRUE(k.load(r)) << r.error();
  EXPECT_TRUE(r.at_end());
  EXPECT_EQ(k.n(), h.n());
  EXPECT_EQ(bits(k.mean()), bits(h.mean()));
  for (double q : {0.0, 0.001, 0.01, 0.25, 0.5, 0.6827, 0.95, 0.99, 0.999, 1.0}) EXPECT_EQ(bits(k.quantile(q)), bits(h.quantile(q))) << q;
  // both go on alike
  for (int i = 0; i < 500; ++i) {
    const double e = 0.5 * g.next() + (i % 50 == 0 ? -3.0 : 0.0);
    h.add(e);
    k.add(e);
  }
  ByteWriter wh, wk;
  h.save(wh);
  k.save(wk);
  EXPECT_TRUE(wh.bytes() == wk.bytes());
  EXPECT_EQ(bits(k.quantile(0.95)), bits(h.quantile(0.95)));
  // sparse: far smaller than its 3,500 bins
  EXPECT_LT(w.bytes().size(), 3500u * 4);

  // an empty histogram round-trips
  ErrorHistogram e1(-1.0, 6.0, 0.002), e2(-1.0, 6.0, 0.002);
  ByteWriter we;
  e1.save(we);
  ByteReader re(we.bytes());
  EXPECT_TRUE(e2.load(re));
  EXPECT_EQ(e2.n(), 0u);
}

TEST(SimCheckpoint, H06_HistogramRefusesOtherBoundsAndInconsistentCounts) {
  ErrorHistogram h(0.0, 20.0, 0.001);
  for (int i = 0; i < 100; ++i) h.add(0.01 * i);
  h.add(25);
  ByteWriter w;
  h.save(w);
  const std::string bytes = w.bytes();
  for (ErrorHistogram other : {ErrorHistogram(-1.0, 6.0, 0.002), ErrorHistogram(0.0, 20.0, 0.002), ErrorHistogram(0.0, 21.0, 0.001)}) {
    ByteReader r(bytes);
    EXPECT_FALSE(other.load(r));
    EXPECT_NE(r.error().find("does not fit"), std::string::npos) << r.error();
    EXPECT_EQ(other.n(), 0u);  // unchanged
  }
  // n is the last u64 but one double: one more than the bins and the outside values hold
  std::string bad = bytes;
  bad[bad.size() - 16] = static_cast<char>(bad[bad.size() - 16] + 1);
  ErrorHistogram k(0.0, 20.0, 0.001);
  ByteReader r(bad);
  EXPECT_FALSE(k.load(r));
  EXPECT_NE(r.error().find("count"), std::string::npos) << r.error();
  // every prefix refused
  for (size_t n = 0; n < bytes.size(); ++n) {
    ErrorHistogram t(0.0, 20.0, 0.001);
    ByteReader rt(std::string_view(bytes).substr(0, n));
    EXPECT_FALSE(t.load(rt)) << n;
  }
  // every byte flipped: refused or consistent (n is never more than what it holds)
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string f = bytes;
    f[i] = static_cast<char>(f[i] ^ 0x21);
    ErrorHistogram t(0.0, 20.0, 0.001);
    ByteReader rt(f);
    if (t.load(rt)) {
      t.quantile(0.5);
      t.quantile(1.0);
    }
  }
}

TEST(SimCheckpoint, H01_GaussianStreamResumesWithTheSameNumbers) {
  for (int drawn : {0, 1, 2, 7}) {  // odd counts leave a Box-Muller spare pending
    GaussianStream a(stream_seed(7, 3));
    for (int i = 0; i < drawn; ++i) a.next();
    a.uniform();
    ByteWriter w;
    a.save(w);
    GaussianStream b(12345);
    ByteReader r(w.bytes());
    ASSERT_TRUE(b.load(r)) << r.error();
    EXPECT_TRUE(r.at_end());
    for (int i = 0; i < 1000; ++i) {
      EXPECT_EQ(bits(a.next()), bits(b.next())) << drawn << " " << i;
      EXPECT_EQ(bits(a.uniform()), bits(b.uniform()));
    }
  }
}

TEST(SimCheckpoint, H01_GaussianStreamRefusesBadState) {
  GaussianStream a(1);
  a.next();
  ByteWriter w;
  a.save(w);
  const std::string bytes = w.bytes();
  GaussianStream ref(77), b(77);
  auto same_as_ref = [&] {
    for (int i = 0; i < 10; ++i) EXPECT_EQ(bits(ref.next()), bits(b.next()));
  };
  // truncations (sampled: the text is about 6.5 KB)
  for (size_t n = 0; n < bytes.size(); n += n < 64 || n > bytes.size() - 64 ? 1 : 97) {
    ByteReader r(std::string_view(bytes).substr(0, n));
    EXPECT_FALSE(b.load(r)) << n;
  }
  // a damaged text: a letter in a word, a word missing, a word too many, a sign
  const size_t len = bytes.size() - 8 - 1 - 8;  // the text after its u64 length
  const std::string text = bytes.substr(8, len);
  auto with_text = [&](const std::string& t) {
    ByteWriter x;
    x.str(t);
    x.boolean(false);
    x.f64(0);
    return x.take();
  };
  std::string letter = text;
  letter[5] = 'x';
  const std::string missing = text.substr(text.find(' ') + 1);
  for (const std::string& t : {letter, missing, text + " 1", "-" + text, std::string(), std::string(20000, '1')}) {
    const std::string in = with_text(t);
    ByteReader r(in);
    EXPECT_FALSE(b.load(r));
    EXPECT_FALSE(r.error().empty());
  }
  // a spare flag that is neither 0 nor 1
  std::string flag = bytes;
  flag[8 + len] = 3;
  ByteReader rf(flag);
  EXPECT_FALSE(b.load(rf));
  same_as_ref();  // nothing refused changed the stream
}

TEST(SimCheckpoint, H01_LinkRandomResumesWithTheSameNumbers) {
  LinkRandom a(link_key(11, 3, 2, 40));
  for (int i = 0; i < 5; ++i) a.gaussian();
  ByteWriter w;
  a.save(w);
  EXPECT_EQ(w.bytes().size(), 16u);
  LinkRandom b(0);
  ByteReader r(w.bytes());
  ASSERT_TRUE(b.load(r));
  EXPECT_EQ(b.key(), a.key());
  EXPECT_EQ(b.count(), a.count());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(bits(a.uniform()), bits(b.uniform()));
  for (size_t n = 0; n < 16; ++n) {
    LinkRandom c(9);
    ByteReader rt(std::string_view(w.bytes()).substr(0, n));
    EXPECT_FALSE(c.load(rt));
    EXPECT_EQ(c.key(), 9u);
    EXPECT_EQ(c.count(), 0u);
  }
}

}  // namespace
}  // namespace planttwin
