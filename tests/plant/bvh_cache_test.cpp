// H-02, PL-08 (issue 15): the model cache (sim/plant/model_cache.h). A tree read from the cache
// answers exactly as the tree built; a missing, corrupted, truncated or foreign file, or one that
// does not fit the triangles, is rebuilt; a folder that cannot be written only costs the build; the
// folder is kept under its bound; small plants are not cached.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "sim/plant/model_cache.h"
#include "sim/plant/plant_model.h"
#include "tests/plant/sites.h"
#include "tests/scenarios/temp_folder.h"

namespace planttwin {
namespace {

namespace fs = std::filesystem;

// 10 x 10 x 4 steel boxes with glass between: 4,800 triangles
Site grid_site(double shift = 0) {
  Site s = test::empty_site();
  for (int k = 0; k < 4; ++k)
    for (int j = 0; j < 10; ++j)
      for (int i = 0; i < 10; ++i) {
        const double x = 3.5 * i + shift, y = 3.5 * j, z = 1.5 * k;
        s.obstacles.push_back(test::box("C" + std::to_string(i) + "-" + std::to_string(j) + "-" + std::to_string(k), x, y, z,
                                        x + 0.3, y + 0.3, z + 1.2, (i + j) % 5 ? "steel" : "glass"));
      }
  return s;
}

class BvhCache : public test::TempFolderTest {
 protected:
  PlantOptions options() const {
    PlantOptions o;
    o.bvh_cache.dir = (dir / "cache").string();
    o.bvh_cache.min_triangles = 1000;
    return o;
  }
  std::unique_ptr<PlantModel> build(const Site& s, const PlantOptions& o) {
    std::string err;
    auto m = PlantModel::build(s, err, o);
    EXPECT_TRUE(m) << err;
    return m;
  }
  std::vector<fs::path> files() const {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir / "cache", ec)) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
  }
  // the same crossings and clear() answers, bit for bit, on random segments through the grid
  void expect_same(const PlantModel& a, const PlantModel& b) {
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<double> x(-3, 38), z(0, 6);
    std::vector<Crossing> ca, cb;
    const std::vector<char> all(a.materials().size(), 1);
    std::size_t blocked = 0;
    for (int i = 0; i < 5000; ++i) {
      const Vec3 p{x(rng), x(rng), z(rng)}, q{x(rng), x(rng), z(rng)};
      a.trace(p, q, ca);
      b.trace(p, q, cb);
      ASSERT_EQ(ca.size(), cb.size()) << i;
      for (std::size_t k = 0; k < ca.size(); ++k) {
        EXPECT_EQ(ca[k].solid, cb[k].solid);
        EXPECT_EQ(ca[k].length_m, cb[k].length_m);
      }
      EXPECT_EQ(a.clear(p, q, all), b.clear(p, q, all)) << i;
      blocked += !ca.empty();
    }
    EXPECT_GT(blocked, 500u);
  }
};

TEST_F(BvhCache, H02_SecondBuildReadsTheTreeAndAnswersTheSame) {
  const Site s = grid_site();
  auto fresh = build(s, {});  // no cache
  EXPECT_FALSE(fresh->bvh_from_cache());
  auto first = build(s, options());
  EXPECT_FALSE(first->bvh_from_cache());  // built, then stored
  ASSERT_EQ(files().size(), 1u);
  EXPECT_EQ(files()[0].extension(), ".bvh");
  auto second = build(s, options());
  EXPECT_TRUE(second->bvh_from_cache());
  expect_same(*fresh, *second);
  // another plant (one box moved by 1 cm) is another key: built, not read
  auto moved = build(grid_site(0.01), options());
  EXPECT_FALSE(moved->bvh_from_cache());
  EXPECT_EQ(files().size(), 2u);
}

TEST_F(BvhCache, H02_CorruptedTruncatedOrForeignFilesAreRebuilt) {
  const Site s = grid_site();
  auto fresh = build(s, {});
  build(s, options());
  ASSERT_EQ(files().size(), 1u);
  const fs::path f = files()[0];
  const std::string good = read(f);
  auto put = [&](const std::string& bytes) { std::ofstream(f, std::ios::binary | std::ios::trunc) << bytes; };

  std::string flipped = good;
  flipped[good.size() / 2] = static_cast<char>(flipped[good.size() / 2] ^ 0x10);  // one bit in a node
  put(flipped);
  auto m = build(s, options());
  EXPECT_FALSE(m->bvh_from_cache());
  expect_same(*fresh, *m);
  EXPECT_EQ(read(f), good) << "rewritten";
  EXPECT_TRUE(build(s, options())->bvh_from_cache());  // and usable again

  put(good.substr(0, good.size() - 7));  // truncated
  EXPECT_FALSE(build(s, options())->bvh_from_cache());
  put("PTBVH99\n" + good.substr(8));  // another format
  EXPECT_FALSE(build(s, options())->bvh_from_cache());
  put("");  // empty
  m = build(s, options());
  EXPECT_FALSE(m->bvh_from_cache());
  expect_same(*fresh, *m);
}

TEST_F(BvhCache, H02_ATreeThatDoesNotFitTheTrianglesIsRefused) {
  const Site s = grid_site();
  auto m = build(s, options());
  const std::string key = files()[0].stem().string();
  BvhCacheOptions o = options().bvh_cache;
  const std::size_t n = m->mesh().triangles.size();
  EXPECT_TRUE(bvh_cache_load(o, key, n).bvh);
  // leaves pointing past the triangles the caller has: refused, not walked
  EXPECT_FALSE(bvh_cache_load(o, key, n / 2).bvh);
  EXPECT_FALSE(bvh_cache_load(o, std::string(64, '0'), n).bvh);  // no such key
}

TEST_F(BvhCache, H02_UnwritableFolderOnlyCostsTheBuild) {
  const Site s = grid_site();
  write("cache", "a file where the folder should be");
  auto fresh = build(s, {});
  auto m = build(s, options());
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->bvh_from_cache());
  expect_same(*fresh, *m);
  EXPECT_FALSE(build(s, options())->bvh_from_cache());
}

TEST_F(BvhCache, H02_FolderKeptUnderItsBoundAndSmallPlantsNotCached) {
  PlantOptions o = options();
  build(grid_site(0), o);
  ASSERT_EQ(files().size(), 1u);
  const auto one = fs::file_size(files()[0]);
  o.bvh_cache.max_bytes = one + one / 2;  // room for one tree only
  const fs::path older = files()[0];
  fs::last_write_time(older, fs::file_time_type::clock::now() - std::chrono::hours(1));
  build(grid_site(0.5), o);
  ASSERT_EQ(files().size(), 1u);
  EXPECT_NE(files()[0], older) << "the least recently used one went";
  // below min_triangles: nothing written
  o.bvh_cache.min_triangles = 100'000;
  build(grid_site(1), o);
  EXPECT_EQ(files().size(), 1u);
  // and no temporary file is ever left behind
  for (const auto& f : files()) EXPECT_EQ(f.extension(), ".bvh");
  // a writer that died before its rename left one: removed by the next write once an hour old
  write("cache/dead.123.tmp", "half a tree");
  write("cache/fresh.456.tmp", "another writer, still writing");
  fs::last_write_time(dir / "cache" / "dead.123.tmp", fs::file_time_type::clock::now() - std::chrono::hours(2));
  o.bvh_cache.min_triangles = 1000;
  build(grid_site(2), o);
  EXPECT_FALSE(fs::exists(dir / "cache" / "dead.123.tmp"));
  EXPECT_TRUE(fs::exists(dir / "cache" / "fresh.456.tmp"));
}

}  // namespace
}  // namespace planttwin
