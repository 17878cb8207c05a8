// BM_FirstPath (issue 20; docs/radio.md "First paths"): the radio's first-path search on the demo
// plant, over the same fixed ray set as BM_PlantRayCast (bench_plant.cpp: 4096 anchor -> tag links,
// each from a random tag spot 1.2 m above the ground to a random anchor within 50 m, seeded), so
// the two are read side by side: per link one PlantModel::trace() (what BM_PlantRayCast measures)
// plus FirstPathFinder::find() (nothing more for line-of-sight links; diffraction and reflection
// legs traced through the same BVH for blocked ones). Counter links_per_second (one core).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>
#include <random>
#include <stdexcept>
#include <vector>

#include "scenarios/loader.h"
#include "sim/radio/first_path.h"
#include "sim/radio/plant_los.h"

using namespace planttwin;

namespace {

struct Demo {
  Site site;
  std::unique_ptr<LineOfSight> los;
  std::unique_ptr<RadioChannel> ch;
  std::unique_ptr<FirstPathFinder> fp;
  struct Link {
    Vec3 tag;
    int anchor;
  };
  std::vector<Link> links;
};

const Demo& demo() {
  static const Demo d = [] {
    Demo x;
    const std::filesystem::path file =
        std::filesystem::path(__FILE__).parent_path().parent_path() / "scenarios" / "sites" / "demo-plant.yaml";
    if (const auto err = load_site_file(file.string(), x.site)) throw std::runtime_error(err->to_string());
    std::string err;
    x.los = make_plant_los(x.site, err);
    if (!x.los) throw std::runtime_error(err);
    x.ch = std::make_unique<RadioChannel>(x.site, radio_defaults(x.site), x.los->materials(), 1);
    x.fp = std::make_unique<FirstPathFinder>(*x.los, *x.ch);
    // the ray set of bench_plant.cpp (same seed, same draws)
    std::mt19937_64 rng(20261128);
    std::uniform_real_distribution<double> ux(0, 400), uy(0, 300);
    while (x.links.size() < 4096) {
      const Vec3 tag{ux(rng), uy(rng), 1.2};
      std::vector<int> near;
      for (size_t i = 0; i < x.site.anchors.size(); ++i) {
        const Anchor& a = x.site.anchors[i];
        const double dx = a.at[0] - tag.x, dy = a.at[1] - tag.y, dz = a.at[2] - tag.z;
        if (dx * dx + dy * dy + dz * dz <= 50.0 * 50.0) near.push_back(static_cast<int>(i));
      }
      if (near.empty()) continue;
      x.links.push_back({tag, near[std::uniform_int_distribution<std::size_t>(0, near.size() - 1)(rng)]});
    }
    return x;
  }();
  return d;
}

void BM_FirstPath(benchmark::State& state) {
  const Demo& d = demo();
  std::vector<Crossing> cr;
  std::size_t nlos = 0, heard = 0, detour = 0;
  for (auto _ : state) {
    nlos = heard = detour = 0;
    for (const Demo::Link& l : d.links) {
      d.los->trace(d.ch->anchor_at(l.anchor), l.tag, cr);
      const LinkGeometry g = d.fp->find(l.tag, l.anchor, cr);
      nlos += g.nlos;
      heard += g.in_budget;
      detour += g.nlos && g.paths > 0 && g.path[0].kind != PathCandidate::Kind::direct;
    }
    benchmark::DoNotOptimize(heard);
  }
  const double links = static_cast<double>(state.iterations()) * static_cast<double>(d.links.size());
  const double n = static_cast<double>(d.links.size());
  state.counters["links_per_second"] = benchmark::Counter(links, benchmark::Counter::kIsRate);
  state.counters["nlos_share"] = static_cast<double>(nlos) / n;
  state.counters["in_budget_share"] = static_cast<double>(heard) / n;
  state.counters["detour_share"] = static_cast<double>(detour) / n;
  state.counters["reflectors"] = static_cast<double>(d.fp->faces().size());
}
BENCHMARK(BM_FirstPath)->Unit(benchmark::kMillisecond);

}  // namespace
