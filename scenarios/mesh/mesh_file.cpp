#include "scenarios/mesh/mesh_file.h"

#include "engine/plan_hull.h"

#include <assimp/DefaultIOSystem.h>
#include <assimp/Importer.hpp>
#include <assimp/config.h>
#include <assimp/postprocess.h>
#include <assimp/scene.h>
#include <assimp/version.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <numbers>

namespace planttwin {

namespace {

// assimp's file access, noting every file it opens (the model and what it refers to), so that the
// site's hash can cover them all.
class NotingIO final : public Assimp::DefaultIOSystem {
 public:
  explicit NotingIO(std::vector<std::string>& files) : files_(files) {}
  Assimp::IOStream* Open(const char* file, const char* mode) override {
    Assimp::IOStream* s = Assimp::DefaultIOSystem::Open(file, mode);
    if (s) {
      const std::string f = std::filesystem::path(file).lexically_normal().string();
      bool seen = false;
      for (const std::string& x : files_) seen = seen || x == f;
      if (!seen) files_.push_back(f);
    }
    return s;
  }

 private:
  std::vector<std::string>& files_;
};

// Welds positions by their exact float bits: an open-addressing table (linear probing, grown at
// half full), since a node-based map spends most of its time allocating for millions of corners.
class WeldTable {
 public:
  explicit WeldTable(std::size_t expected) { resize(std::bit_ceil(std::max<std::size_t>(64, 2 * expected))); }
  // the index stored for `key`, or `next` stored and returned when the key is new (`fresh`)
  int find_or_add(const std::array<std::uint32_t, 3>& key, int next, bool& fresh) {
    if (2 * (used_ + 1) > slots_.size()) grow();
    std::size_t i = hash(key) & (slots_.size() - 1);
    while (slots_[i].value >= 0 && slots_[i].key != key) i = (i + 1) & (slots_.size() - 1);
    fresh = slots_[i].value < 0;
    if (fresh) slots_[i] = {key, next}, ++used_;
    return slots_[i].value;
  }

 private:
  struct Slot {
    std::array<std::uint32_t, 3> key{};
    int value = -1;  // -1: empty
  };
  static std::size_t hash(const std::array<std::uint32_t, 3>& k) {
    std::uint64_t h = (static_cast<std::uint64_t>(k[0]) << 32 | k[1]) * 0x9E3779B97F4A7C15ull;
    h ^= (h >> 29) ^ (static_cast<std::uint64_t>(k[2]) * 0xC2B2AE3D27D4EB4Full);
    return static_cast<std::size_t>(h ^ (h >> 32));
  }
  void resize(std::size_t n) { slots_.assign(n, Slot{}); }
  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    resize(2 * old.size());
    for (const Slot& s : old)
      if (s.value >= 0) {
        std::size_t i = hash(s.key) & (slots_.size() - 1);
        while (slots_[i].value >= 0) i = (i + 1) & (slots_.size() - 1);
        slots_[i] = s;
      }
  }
  std::vector<Slot> slots_;
  std::size_t used_ = 0;
};

std::uint32_t bits(float x) { return std::bit_cast<std::uint32_t>(x == 0.0f ? 0.0f : x); }  // -0 == +0

}  // namespace

namespace {
// Raise when read_mesh_model gives other vertices, triangles or closedness for the same file.
constexpr int kMeshReaderRevision = 1;
}  // namespace

std::string mesh_reader_version() {
  return "planttwin-reader " + std::to_string(kMeshReaderRevision) + " assimp " + std::to_string(aiGetVersionMajor()) + "." +
         std::to_string(aiGetVersionMinor()) + "." + std::to_string(aiGetVersionPatch()) + " rev " +
         std::to_string(aiGetVersionRevision());
}

MeshReadResult read_mesh_model(const std::string& path, std::size_t max_triangles, MeshModel& out) {
  MeshReadResult res;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    res.error = "no such file";
    return res;
  }
  if (std::filesystem::is_directory(path, ec)) {
    res.error = "is a folder, not a model file";
    return res;
  }
  if (!std::filesystem::is_regular_file(path, ec)) {  // a device or a pipe could block the reader
    res.error = "is not a regular file";
    return res;
  }
  if (!std::ifstream(path, std::ios::binary)) {
    res.error = "cannot open it for reading";
    return res;
  }

  Assimp::Importer imp;
  imp.SetIOHandler(new NotingIO(res.files));  // the importer owns it
  // points and lines are no obstacle: drop them; keep triangles (polygons are triangulated)
  imp.SetPropertyInteger(AI_CONFIG_PP_SBP_REMOVE, aiPrimitiveType_POINT | aiPrimitiveType_LINE);
  const aiScene* sc = imp.ReadFile(path, aiProcess_Triangulate | aiProcess_SortByPType | aiProcess_PreTransformVertices |
                                              aiProcess_ValidateDataStructure);
  if (!sc) {
    const std::string why = imp.GetErrorString();
    res.error = "assimp cannot read it: " + (why.empty() ? std::string("unknown error") : why);
    if (why.find("No meshes") != std::string::npos) res.error += " (no triangles: points and lines are left out)";
    return res;
  }
  std::size_t n_tris = 0;
  for (unsigned i = 0; i < sc->mNumMeshes; ++i) {
    const aiMesh* m = sc->mMeshes[i];
    for (unsigned f = 0; f < m->mNumFaces; ++f) n_tris += m->mFaces[f].mNumIndices == 3 ? 1 : 0;
  }
  if (n_tris == 0) {
    res.error = "no triangles in it (" + std::to_string(sc->mNumMeshes) + " meshes; points and lines are left out)";
    return res;
  }
  if (n_tris > max_triangles) {
    res.error = std::to_string(n_tris) + " triangles, more than the limit of " + std::to_string(max_triangles) +
                " (raise it with the obstacle's max_triangles, or simplify the model)";
    return res;
  }

  // weld equal positions across the file's meshes (in the model's own frame: placing comes after)
  out.vertices.clear();
  out.triangles.clear();
  out.triangles.reserve(n_tris);
  WeldTable index(n_tris / 2);  // about one position per two triangles in a closed mesh; grows if more
  for (unsigned i = 0; i < sc->mNumMeshes; ++i) {
    const aiMesh* m = sc->mMeshes[i];
    std::vector<int> local(m->mNumVertices, -1);
    for (unsigned f = 0; f < m->mNumFaces; ++f) {
      const aiFace& face = m->mFaces[f];
      if (face.mNumIndices != 3) continue;
      std::array<int, 3> t{};
      for (int k = 0; k < 3; ++k) {
        const unsigned vi = face.mIndices[k];
        if (local[vi] < 0) {
          const aiVector3D& v = m->mVertices[vi];
          if (!std::isfinite(v.x) || !std::isfinite(v.y) || !std::isfinite(v.z)) {
            res.error = "a vertex with a non-finite coordinate (mesh " + std::to_string(i) + ", vertex " +
                        std::to_string(vi) + ")";
            return res;
          }
          bool fresh = false;
          const int at = index.find_or_add({bits(v.x), bits(v.y), bits(v.z)}, static_cast<int>(out.vertices.size()), fresh);
          if (fresh) out.vertices.push_back({v.x, v.y, v.z});
          local[vi] = at;
        }
        t[static_cast<std::size_t>(k)] = local[vi];
      }
      if (t[0] == t[1] || t[1] == t[2] || t[0] == t[2]) continue;  // collapsed by the weld
      out.triangles.push_back(t);
    }
  }
  if (out.triangles.empty()) {
    res.error = "every triangle in it has zero area";
    return res;
  }

  // closed: every directed edge once, and its reverse once. Sorted lists, not a map: the sorted
  // edges without repeats must equal the sorted reversed edges.
  auto key = [](int a, int b) { return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b); };
  std::vector<std::uint64_t> edges, reversed;
  edges.reserve(out.triangles.size() * 3);
  for (const auto& t : out.triangles)
    for (int k = 0; k < 3; ++k) edges.push_back(key(t[static_cast<std::size_t>(k)], t[static_cast<std::size_t>((k + 1) % 3)]));
  std::sort(edges.begin(), edges.end());
  bool closed = std::adjacent_find(edges.begin(), edges.end()) == edges.end();
  if (closed) {
    reversed.reserve(edges.size());
    for (std::uint64_t e : edges) reversed.push_back((e << 32) | (e >> 32));
    std::sort(reversed.begin(), reversed.end());
    closed = reversed == edges;
  }
  out.closed = closed;
  out.files = res.files;
  return res;
}

void place_mesh(const MeshModel& model, const MeshPlacement& place, ObstacleMesh& out) {
  // model frame -> z up, scaled, turned about z, moved
  const double yaw = place.yaw_deg * std::numbers::pi / 180, c = std::cos(yaw), s = std::sin(yaw);
  out.vertices.clear();
  out.vertices.reserve(model.vertices.size());
  for (const std::array<float, 3>& v : model.vertices) {
    const double x = place.scale * v[0];
    const double y = place.scale * (place.y_up ? -static_cast<double>(v[2]) : v[1]);
    const double z = place.scale * (place.y_up ? v[1] : v[2]);
    out.vertices.push_back({place.at[0] + c * x - s * y, place.at[1] + s * x + c * y, place.at[2] + z});
  }
  out.triangles = model.triangles;
  out.files = model.files;
  out.closed = model.closed;
  if (out.closed) {
    // wound inward (negative volume): turn every triangle over
    double vol6 = 0;
    const auto& p0 = out.vertices[0];
    for (const auto& t : out.triangles) {
      const auto& a = out.vertices[static_cast<std::size_t>(t[0])];
      const auto& b = out.vertices[static_cast<std::size_t>(t[1])];
      const auto& d = out.vertices[static_cast<std::size_t>(t[2])];
      const double u[3] = {a[0] - p0[0], a[1] - p0[1], a[2] - p0[2]}, v[3] = {b[0] - p0[0], b[1] - p0[1], b[2] - p0[2]},
                   w[3] = {d[0] - p0[0], d[1] - p0[1], d[2] - p0[2]};
      vol6 += u[0] * (v[1] * w[2] - v[2] * w[1]) - u[1] * (v[0] * w[2] - v[2] * w[0]) + u[2] * (v[0] * w[1] - v[1] * w[0]);
    }
    if (vol6 < 0)
      for (auto& t : out.triangles) std::swap(t[1], t[2]);
  }
  // the plan outline: convex hull (monotone chain)
  std::vector<std::array<double, 2>> p;
  p.reserve(out.vertices.size());
  for (const auto& v : out.vertices) p.push_back({v[0], v[1]});
  drop_interior_points(p);  // cannot be on the hull: the same hull, a shorter sort
  std::sort(p.begin(), p.end());
  p.erase(std::unique(p.begin(), p.end()), p.end());
  auto cross = [](const std::array<double, 2>& o, const std::array<double, 2>& a, const std::array<double, 2>& b) {
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  };
  std::vector<std::array<double, 2>> h(2 * p.size() + 1);
  std::size_t k = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    while (k >= 2 && cross(h[k - 2], h[k - 1], p[i]) <= 0) --k;
    h[k++] = p[i];
  }
  for (std::size_t i = p.size() - 1, lo = k + 1; i-- > 0;) {
    while (k >= lo && cross(h[k - 2], h[k - 1], p[i]) <= 0) --k;
    h[k++] = p[i];
  }
  if (k > 1) --k;
  out.outline.clear();
  for (std::size_t i = 0; i < k && p.size() >= 3; ++i) out.outline.push_back({h[i][0], h[i][1]});
}

MeshReadResult read_mesh_file(const std::string& path, const MeshPlacement& place, std::size_t max_triangles,
                              ObstacleMesh& out) {
  MeshModel model;
  MeshReadResult res = read_mesh_model(path, max_triangles, model);
  if (res.error.empty()) place_mesh(model, place, out);
  return res;
}

}  // namespace planttwin
