// H-02, PL-08 (issue 15): the loader's side of the model cache (scenarios/mesh_cache.h). A model
// read from the cache loads exactly as read by assimp (vertices, triangles, closedness, files and
// hash); a change to a file assimp opened besides the model (an .obj's .mtl) or a corrupted entry
// reads the model again; a model moved to another folder with its files is still found; with no
// folder set nothing is written.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "scenarios/loader.h"
#include "scenarios/mesh_cache.h"
#include "tests/scenarios/mesh_files.h"
#include "tests/scenarios/temp_folder.h"

namespace planttwin {
namespace {

namespace fs = std::filesystem;

class MeshCache : public test::TempFolderTest {
 protected:
  MeshCache() : TempFolderTest("planttwin_meshcache_") {}
  void SetUp() override {
    TempFolderTest::SetUp();
    MeshCacheOptions o;
    o.dir = (dir / "cache").string();
    o.min_triangles = 1;  // the test's small models are cached too
    set_mesh_cache(o);
  }
  void TearDown() override {
    set_mesh_cache({});
    TempFolderTest::TearDown();
  }
  void write_model(const fs::path& folder, const std::string& colour) {
    fs::create_directories(folder);
    std::ofstream(folder / "unit.obj") << "mtllib unit.mtl\nusemtl paint\n" << test::box_obj({0, 0, 0}, {2, 3, 4}, true);
    std::ofstream(folder / "unit.mtl") << "newmtl paint\nKd " << colour << "\n";
    std::ofstream(folder / "site.yaml") << "site: m\nobstacles:\n  - {id: U, mesh: unit.obj, up: z, material: steel, at: [1, 2, 0], yaw: 30}\n";
  }
  std::shared_ptr<const ObstacleMesh> load(const fs::path& folder) {
    Site s;
    const auto err = load_site_file((folder / "site.yaml").string(), s);
    EXPECT_FALSE(err.has_value()) << err->to_string();
    return s.obstacles.at(0).mesh;
  }
  std::vector<fs::path> entries() const {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir / "cache", ec)) out.push_back(e.path());
    return out;
  }
  static ino_t inode(const fs::path& f) {
    struct stat st {};
    return ::stat(f.c_str(), &st) == 0 ? st.st_ino : 0;
  }
  static void expect_same(const ObstacleMesh& a, const ObstacleMesh& b) {
    EXPECT_EQ(a.vertices, b.vertices);
    EXPECT_EQ(a.triangles, b.triangles);
    EXPECT_EQ(a.closed, b.closed);
    EXPECT_EQ(a.files, b.files);
    EXPECT_EQ(a.sha256, b.sha256);
    ASSERT_EQ(a.outline.size(), b.outline.size());
    for (std::size_t i = 0; i < a.outline.size(); ++i) {
      EXPECT_EQ(a.outline[i].x, b.outline[i].x);
      EXPECT_EQ(a.outline[i].y, b.outline[i].y);
    }
  }
};

TEST_F(MeshCache, H02_SecondLoadReadsTheCacheAndGivesTheSameMesh) {
  write_model(dir / "a", "0.5 0.5 0.5");
  const auto first = load(dir / "a");
  ASSERT_EQ(first->files.size(), 2u) << "assimp opened the .obj and its .mtl";
  ASSERT_EQ(entries().size(), 1u);
  const fs::path entry = entries()[0];
  EXPECT_EQ(entry.extension(), ".mesh");
  const auto ino = inode(entry);
  fs::last_write_time(entry, fs::file_time_type::clock::now() - std::chrono::hours(1));
  const auto before = fs::last_write_time(entry);
  const auto second = load(dir / "a");
  expect_same(*first, *second);
  EXPECT_EQ(inode(entry), ino);                      // read, not written again
  EXPECT_GT(fs::last_write_time(entry), before);     // and touched
  // with no cache at all: the same mesh
  set_mesh_cache({});
  expect_same(*first, *load(dir / "a"));
  // the model and its .mtl in another folder: found (their names are relative to the model)
  MeshCacheOptions o;
  o.dir = (dir / "cache").string();
  o.min_triangles = 1;
  set_mesh_cache(o);
  write_model(dir / "b", "0.5 0.5 0.5");
  const auto moved = load(dir / "b");
  EXPECT_EQ(inode(entry), ino);
  EXPECT_EQ(moved->sha256, first->sha256);
  EXPECT_EQ(moved->vertices, first->vertices);
  EXPECT_EQ(moved->files[1], (dir / "b" / "unit.mtl").lexically_normal().string());
}

TEST_F(MeshCache, H02_AChangedSideFileOrACorruptedEntryReadsTheModelAgain) {
  write_model(dir / "a", "0.5 0.5 0.5");
  const auto first = load(dir / "a");
  ASSERT_EQ(entries().size(), 1u);
  const fs::path entry = entries()[0];
  // the .mtl changed: the model's hash changes and the entry is written again
  std::ofstream(dir / "a" / "unit.mtl") << "newmtl paint\nKd 0.9 0.1 0.1\n";
  const auto ino = inode(entry);
  const auto changed = load(dir / "a");
  EXPECT_NE(changed->sha256, first->sha256);
  EXPECT_EQ(changed->vertices, first->vertices);
  EXPECT_NE(inode(entry), ino);
  // a byte flipped in the entry: refused by its SHA-256, read again, the same mesh
  std::string bytes = read(entry);
  bytes[bytes.size() - 5] = static_cast<char>(bytes[bytes.size() - 5] ^ 1);
  std::ofstream(entry, std::ios::binary | std::ios::trunc) << bytes;
  expect_same(*changed, *load(dir / "a"));
  EXPECT_NE(read(entry), bytes);  // replaced by a good one
}

TEST_F(MeshCache, H02_NoFolderWritesNothing) {
  set_mesh_cache({});
  write_model(dir / "a", "0.5 0.5 0.5");
  load(dir / "a");
  EXPECT_FALSE(fs::exists(dir / "cache"));
}

}  // namespace
}  // namespace planttwin
