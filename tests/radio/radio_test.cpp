// The radio model per link and the simulated positioning pipeline (H-02), with an analytic line
// of sight (axis-aligned boxes) so that these tests do not depend on the Bullet model.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "sim/radio/positioning.h"
#include "sim/radio/radio.h"
#include "tests/radio/radio_fixtures.h"

namespace planttwin {
namespace {

using namespace radio_fixtures;

Site two_anchor_site() {
  Site s;
  s.anchors.push_back({"A1", {0.0, 0.0, 1.5}});
  s.anchors.push_back({"A2", {5.2, 0.0, 1.5}});
  return s;
}

struct Errors {
  std::vector<double> e;
  int dropped = 0, collided = 0;
  double quantile(double q) {
    std::sort(e.begin(), e.end());
    return e.empty() ? 0 : e[static_cast<size_t>(std::clamp(std::ceil(q * static_cast<double>(e.size())), 1.0, static_cast<double>(e.size()))) - 1];
  }
  double mean() const { return std::accumulate(e.begin(), e.end(), 0.0) / static_cast<double>(e.size()); }
  double sd() const {
    const double m = mean();
    double s = 0;
    for (double x : e) s += (x - m) * (x - m);
    return std::sqrt(s / static_cast<double>(e.size() - 1));
  }
  // robust spread: half the 15.9 %..84.1 % range (outliers do not count)
  double sigma() {
    return (quantile(0.8413) - quantile(0.1587)) / 2;
  }
  double share(double lo, double hi) const {
    return static_cast<double>(std::count_if(e.begin(), e.end(), [&](double x) { return x >= lo && x < hi; })) /
           static_cast<double>(e.size());
  }
};

// n blinks of one link from `tag_at` to anchor 0 through the given crossings.
Errors measure(const RadioChannel& ch, Vec3 tag_at, std::vector<Crossing> crossings, int n, double load = 0, int tag = 1,
               int anchor = 0) {
  Errors r;
  const LinkGeometry g = ch.geometry(tag_at, anchor, crossings);
  for (int k = 0; k < n; ++k) {
    const LinkSample s = ch.sample(tag, anchor, static_cast<std::uint64_t>(k), g, load);
    if (s.collided) ++r.collided;
    if (!s.received) {
      ++r.dropped;
      continue;
    }
    r.e.push_back(s.measured_m - s.true_m);
  }
  return r;
}

int mat(const std::string& name) { return static_cast<int>(std::find(kMats.begin(), kMats.end(), name) - kMats.begin()); }

const Vec3 kTag{2.6, 2.8, 0.7};  // 3.9 m from both anchors (reference 8's layout)

TEST(Radio, H02_LosNoiseIsGaussianWithDefaultSigma) {
  const Site site = two_anchor_site();
  RadioChannel ch(site, radio_defaults(site), kMats, 7);
  Errors e = measure(ch, kTag, {}, 40000);
  EXPECT_EQ(e.dropped, 0);
  EXPECT_NEAR(e.sigma(), 0.05, 0.002);
  EXPECT_LT(e.share(-0.3, 0.3), 1.0);    // rare outliers exist by default ...
  EXPECT_GT(e.share(-0.3, 0.3), 0.997);  // ... and are rare
  EXPECT_NEAR(e.quantile(0.5), 0.0, 0.002);
  EXPECT_NEAR(e.quantile(0.95), 1.645 * 0.05, 0.005);
}

TEST(Radio, H02_OpaqueStraightPathAloneCarriesNothing) {
  // metal and steel are opaque: without the geometry's detours (FirstPathFinder) there is no path
  const Site site = two_anchor_site();
  RadioChannel ch(site, radio_defaults(site), kMats, 7);
  for (const char* m : {"metal", "steel"}) {
    const LinkGeometry g = ch.geometry(kTag, 0, std::vector<Crossing>{{mat(m), 0.6}});
    EXPECT_TRUE(g.nlos);
    EXPECT_EQ(g.paths, 0) << m;
    EXPECT_FALSE(g.in_budget) << m;
    EXPECT_EQ(measure(ch, kTag, {{mat(m), 0.6}}, 500).dropped, 500) << m;
  }
}

TEST(Radio, H02_NlosBiasIsOrderedByMaterialAndAddsUpPerCrossing) {
  const Site site = two_anchor_site();
  RadioChannel ch(site, radio_defaults(site), kMats, 7);
  const double wood = measure(ch, kTag, {{mat("wood"), 0.6}}, 8000).quantile(0.5);
  const double plastic = measure(ch, kTag, {{mat("plastic"), 0.6}}, 8000).quantile(0.5);
  const double foam = measure(ch, kTag, {{mat("foam"), 0.6}}, 8000).quantile(0.5);
  EXPECT_GT(wood, plastic + 0.05);
  EXPECT_NEAR(foam, 0.0, 0.02);                                    // UTIL: almost nothing
  EXPECT_NEAR(wood, 0.114, 0.03);                                  // UTIL wooden shelf
  const double two_walls = measure(ch, {10, 0, 1.5}, {{mat("brick"), 0.24}, {mat("brick"), 0.24}}, 8000).quantile(0.5);
  const double one_wall = measure(ch, {10, 0, 1.5}, {{mat("brick"), 0.24}}, 8000).quantile(0.5);
  EXPECT_GT(one_wall, wood + 0.1);        // a brick wall delays by its permittivity
  EXPECT_GT(two_walls, one_wall + 0.15);  // delay and loss add up per crossing
}

TEST(Radio, H02_LinkBudgetDropsBeyondRangeAndThroughWalls) {
  Site site = two_anchor_site();
  RadioParams p = radio_defaults(site);
  p.shadowing_db = 0;
  RadioChannel ch(site, p, kMats, 7);
  // 36 dB margin -> 63 m in LOS
  EXPECT_EQ(measure(ch, {62, 0, 1.5}, {}, 200).dropped, 0);
  EXPECT_EQ(measure(ch, {64, 0, 1.5}, {}, 200).dropped, 200);
  // one concrete wall (12 dB) at 10 m is heard, two are not (-64 - 20 - 24 < -100)
  EXPECT_EQ(measure(ch, {10, 0, 1.5}, {{mat("concrete"), 0.3}}, 200).dropped, 0);
  EXPECT_EQ(measure(ch, {10, 0, 1.5}, {{mat("concrete"), 0.3}, {mat("concrete"), 0.3}}, 200).dropped, 200);
  const LinkGeometry g = ch.geometry({10, 0, 1.5}, 0, std::vector<Crossing>{{mat("concrete"), 0.3}});
  EXPECT_TRUE(g.nlos);
  EXPECT_DOUBLE_EQ(g.attenuation_db, 12);
  EXPECT_TRUE(g.in_budget);
}

TEST(Radio, H02_OutlierClassesComeAtTheirRates) {
  const Site site = two_anchor_site();
  RadioParams p = radio_defaults(site);
  p.los_sigma_m = 0.01;
  p.outlier_small_rate = 0.02;
  p.outlier_medium_rate = 0.01;
  p.outlier_large_rate = 0.005;
  RadioChannel ch(site, p, kMats, 7);
  Errors e = measure(ch, kTag, {}, 100000);
  const double small = e.share(-0.7, -0.3) + e.share(0.3, 0.7);
  EXPECT_NEAR(small, 0.02, 0.002);
  EXPECT_NEAR(e.share(3, 5), 0.01, 0.0015);
  EXPECT_NEAR(e.share(20, 40), 0.005, 0.001);
  EXPECT_NEAR(e.share(-0.05, 0.05), 0.965, 0.003);
  // NLOS multiplies the rates
  p.outlier_nlos_factor = 2;
  RadioChannel nl(site, p, kMats, 7);
  EXPECT_NEAR(measure(nl, kTag, {{mat("foam"), 0.1}}, 100000).share(20, 40), 0.01, 0.0015);
}

TEST(Radio, H02_TdoaModeUsesTimestampNoise) {
  const Site site = two_anchor_site();
  RadioParams p = radio_defaults(site);
  p.mode = RadioParams::Mode::tdoa;
  RadioChannel ch(site, p, kMats, 7);
  EXPECT_NEAR(measure(ch, kTag, {}, 40000).sigma(), 0.09, 0.003);
  EXPECT_TRUE(p.jitter());  // ALOHA intervals by default in TDoA
  p.mode = RadioParams::Mode::twr;
  EXPECT_FALSE(p.jitter());
}

TEST(Radio, H02_AlohaCollisionsUnderCrowding) {
  const Site site = two_anchor_site();
  RadioChannel ch(site, radio_defaults(site), kMats, 7);
  // pure ALOHA: success exp(-2 G)
  Errors crowded = measure(ch, kTag, {}, 40000, 0.5);
  EXPECT_NEAR(static_cast<double>(crowded.collided) / 40000, 1 - std::exp(-1.0), 0.01);
  EXPECT_EQ(measure(ch, kTag, {}, 2000, 0.0).collided, 0);
  // Sewio's cell at 1 Hz: 1,028 tags of 0.175 ms blinks -> G = 0.18
  Errors sewio = measure(ch, kTag, {}, 40000, 1028 * 0.175e-3 / 1.0);
  EXPECT_NEAR(static_cast<double>(sewio.collided) / 40000, 1 - std::exp(-2 * 0.18), 0.01);
}

TEST(Radio, H01_SameSeedSameStreamAndTagsIndependent) {
  const Site site = two_anchor_site();
  RadioChannel a(site, radio_defaults(site), kMats, 7), b(site, radio_defaults(site), kMats, 7), c(site, radio_defaults(site), kMats, 8);
  Errors ea = measure(a, kTag, {}, 5000, 0, 1), eb = measure(b, kTag, {}, 5000, 0, 1), ec = measure(c, kTag, {}, 5000, 0, 1);
  EXPECT_EQ(ea.e, eb.e);
  EXPECT_NE(ea.e, ec.e);
  // a link's draw for blink k does not depend on what was drawn before (order-independent)
  const LinkGeometry g = a.geometry(kTag, 0, {});
  EXPECT_EQ(a.sample(1, 0, 4321, g, 0).measured_m, b.sample(1, 0, 4321, g, 0).measured_m);
  // two tags (and two anchors) are uncorrelated
  Errors t2 = measure(a, kTag, {}, 5000, 0, 2), a2 = measure(a, kTag, {}, 5000, 0, 1, 1);
  auto corr = [](const Errors& x, const Errors& y) {
    const double mx = x.mean(), my = y.mean();
    double sxy = 0;
    for (size_t i = 0; i < x.e.size(); ++i) sxy += (x.e[i] - mx) * (y.e[i] - my);
    return sxy / static_cast<double>(x.e.size() - 1) / (x.sd() * y.sd());
  };
  EXPECT_NE(ea.e, t2.e);
  EXPECT_LT(std::abs(corr(ea, t2)), 0.04);
  EXPECT_LT(std::abs(corr(ea, a2)), 0.04);
}

TEST(Radio, H02_DeviceOffsetsAreConstantPerDevice) {
  const Site site = two_anchor_site();
  RadioParams p = radio_defaults(site);
  p.device_offset_sigma_m = 0.3;
  RadioChannel ch(site, p, kMats, 7);
  const double m1 = measure(ch, kTag, {}, 4000, 0, 1, 0).quantile(0.5), m1b = measure(ch, kTag, {}, 4000, 0, 1, 0).quantile(0.5);
  const double m2 = measure(ch, kTag, {}, 4000, 0, 1, 1).quantile(0.5);
  EXPECT_DOUBLE_EQ(m1, m1b);
  EXPECT_GT(std::abs(m1 - m2), 0.005);  // different anchors, different offsets (seed 7)
  EXPECT_NEAR(measure(RadioChannel(site, radio_defaults(site), kMats, 7), kTag, {}, 4000).quantile(0.5), 0, 0.003);
}

TEST(Radio, H02_OverridesAreCheckedAndApplied) {
  const Site site = two_anchor_site();
  RadioParams p = radio_defaults(site);
  std::string key, msg;
  EXPECT_TRUE(apply_radio_overrides({{"los.sigma", "0.1"}, {"mode", "tdoa"}, {"materials.wood.permittivity", "1.99"},
                                     {"materials.metal.opaque", "false"}, {"materials.kevlar.attenuation_db", "4"},
                                     {"solver.processing_delay", "250ms"}, {"paths.reflections", "off"},
                                     {"leading_edge.floor_max_m", "0.3"}},
                                    p, key, msg))
      << key << ": " << msg;
  EXPECT_DOUBLE_EQ(p.los_sigma_m, 0.1);
  EXPECT_EQ(p.mode, RadioParams::Mode::tdoa);
  EXPECT_DOUBLE_EQ(p.materials.at("wood").permittivity, 1.99);
  EXPECT_FALSE(p.materials.at("metal").opaque);
  EXPECT_FALSE(p.paths.reflections);
  EXPECT_DOUBLE_EQ(p.paths.le_floor_max_m, 0.3);
  EXPECT_DOUBLE_EQ(p.materials.at("kevlar").attenuation_db, 4);
  EXPECT_EQ(p.processing_delay, 250 * kMillisecond);
  EXPECT_FALSE(apply_radio_overrides({{"los.sigmaa", "0.1"}}, p, key, msg));
  EXPECT_EQ(key, "los.sigmaa");
  EXPECT_NE(msg.find("unknown radio key"), std::string::npos);
  EXPECT_FALSE(apply_radio_overrides({{"los.sigma", "-1"}}, p, key, msg));
  EXPECT_EQ(key, "los.sigma");
  EXPECT_FALSE(apply_radio_overrides({{"materials.metal.colour", "grey"}}, p, key, msg));
  // the per-name distributions are gone, with a message that says where the bias comes from now
  EXPECT_FALSE(apply_radio_overrides({{"materials.metal.lock_rate", "0.01"}}, p, key, msg));
  EXPECT_EQ(key, "materials.metal.lock_rate");
  EXPECT_NE(msg.find("was removed"), std::string::npos);
  EXPECT_FALSE(apply_radio_overrides({{"link.blocked_reflection_rate", "0.5"}}, p, key, msg));
  EXPECT_NE(msg.find("geometry"), std::string::npos);
  EXPECT_FALSE(apply_radio_overrides({{"materials.steel.permittivity", "0.5"}}, p, key, msg));  // below 1
  EXPECT_FALSE(apply_radio_overrides({{"paths.max_rounds", "2.5"}}, p, key, msg));
  EXPECT_FALSE(apply_radio_overrides({{"mac.collisions", "maybe"}}, p, key, msg));
  EXPECT_FALSE(apply_radio_overrides({{"mode", "aoa"}}, p, key, msg));
  // a site's materials table (site-v1: attenuation and bias per crossing) makes a penetrable material
  Site s2 = site;
  s2.materials["metal"] = Material{20, 0.5};
  const RadioParams q = radio_defaults(s2);
  EXPECT_DOUBLE_EQ(q.materials.at("metal").attenuation_db, 20);
  EXPECT_DOUBLE_EQ(q.materials.at("metal").bias_m, 0.5);
  EXPECT_FALSE(q.materials.at("metal").opaque);
  EXPECT_TRUE(q.materials.at("steel").opaque);
}

TEST(Radio, H06_HistogramQuantilesWithinResolution) {
  ErrorHistogram h(-0.5, 5.0, 0.005);
  std::vector<double> v;
  for (int i = 0; i < 1000; ++i) {
    const double x = -0.4 + 0.001 * i;
    v.push_back(x);
    h.add(x);
  }
  h.add(30);  // outside: kept exactly
  v.push_back(30);
  std::sort(v.begin(), v.end());
  EXPECT_EQ(h.n(), 1001u);
  EXPECT_NEAR(h.quantile(0.5), v[500], 0.0026);
  EXPECT_NEAR(h.quantile(0.95), v[950], 0.0026);
  EXPECT_DOUBLE_EQ(h.quantile(1.0), 30);
  EXPECT_NEAR(h.mean(), std::accumulate(v.begin(), v.end(), 0.0) / 1001, 1e-9);
}

// --- the pipeline ------------------------------------------------------------------------------

std::vector<Blink> walkers(int tags, int seconds) {
  std::vector<Blink> b;
  for (int t = 0; t < seconds; ++t)
    for (int i = 0; i < tags; ++i)
      b.push_back({t * kSecond, i, static_cast<std::uint64_t>(t), {3.0 + 0.8 * i + 0.3 * t, 4.0 + 0.5 * i, 1.2}, ""});
  return b;
}

std::vector<SimFix> run_pipeline(const Site& site, const LineOfSight& los, int threads, const std::vector<Blink>& blinks, int per_slice,
                                 PipelineCounters* counters = nullptr) {
  SimulatedPositioning pipe(site, radio_defaults(site), los, 11, PipelineOptions{threads, true});
  std::vector<SimFix> out;
  for (size_t i = 0; i < blinks.size(); i += static_cast<size_t>(per_slice))
    pipe.process(std::span<const Blink>(blinks).subspan(i, std::min(blinks.size() - i, static_cast<size_t>(per_slice))), 1.0, out);
  if (counters) *counters = pipe.counters();
  return out;
}

TEST(RadioPipeline, H02_FixesFollowTheTruthWithRealisticDelay) {
  const Site site = square_site();
  BoxesLos los(kMats);
  los.add({10, 10, 0}, {12, 12, 3}, "metal");
  const std::vector<Blink> blinks = walkers(20, 30);
  PipelineCounters c;
  const std::vector<SimFix> fixes = run_pipeline(site, los, 1, blinks, 20, &c);
  EXPECT_EQ(c.blinks, blinks.size());
  EXPECT_GT(fixes.size(), blinks.size() * 9 / 10);
  std::vector<double> err;
  for (const SimFix& f : fixes) {
    EXPECT_EQ(f.fix.t_available - f.fix.t_measured, 100 * kMillisecond);
    EXPECT_GE(f.links_received, 3);
    EXPECT_LE(f.links_tried, 8);
  }
  // errors against the truth of each fix's own blink (blink index per slice of 20)
  size_t slice = 0, prev = 0;
  for (const SimFix& f : fixes) {
    if (static_cast<size_t>(f.blink) < prev) ++slice;
    prev = static_cast<size_t>(f.blink);
    const Blink& b = blinks[slice * 20 + static_cast<size_t>(f.blink)];
    EXPECT_EQ(f.fix.t_measured, b.t);
    err.push_back(std::hypot(f.fix.x - b.at.x, f.fix.y - b.at.y));
  }
  std::sort(err.begin(), err.end());
  EXPECT_LT(err[err.size() * 68 / 100], 0.5);  // decimetre-level UWB in an open square
}

TEST(RadioPipeline, H02_NoFixWhenTooFewAnchorsHear) {
  const Site site = two_anchor_site();
  BoxesLos los(kMats);
  PipelineCounters c;
  const std::vector<SimFix> fixes = run_pipeline(site, los, 1, walkers(3, 5), 3, &c);
  EXPECT_TRUE(fixes.empty());
  EXPECT_EQ(c.no_fix, 15u);
}

TEST(RadioPipeline, H01_ThreadCountDoesNotChangeAnything) {
  const Site site = square_site();
  BoxesLos los(kMats);
  los.add({10, 10, 0}, {12, 12, 3}, "metal");
  los.add({20, 0, 0}, {20.3, 30, 4}, "concrete");
  const std::vector<Blink> blinks = walkers(150, 4);  // 600 blinks a slice: enough to split
  const std::vector<SimFix> one = run_pipeline(site, los, 1, blinks, 600);
  const std::vector<SimFix> two = run_pipeline(site, los, 2, blinks, 600);
  const std::vector<SimFix> three = run_pipeline(site, los, 3, blinks, 600);
  ASSERT_EQ(one.size(), two.size());
  ASSERT_EQ(one.size(), three.size());
  ASSERT_FALSE(one.empty());
  for (size_t i = 0; i < one.size(); ++i) {
    EXPECT_EQ(one[i].blink, two[i].blink);
    EXPECT_EQ(one[i].fix.x, two[i].fix.x);
    EXPECT_EQ(one[i].fix.y, two[i].fix.y);
    EXPECT_EQ(one[i].fix.x, three[i].fix.x);
    EXPECT_EQ(one[i].links_received, three[i].links_received);
  }
}

}  // namespace
}  // namespace planttwin
