#include "scenarios/mesh_cache.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "scenarios/loader.h"
#include "sim/plant/model_cache.h"

namespace planttwin {

namespace {

std::mutex g_mutex;
MeshCacheOptions g_options;

// Payload (native endian): "planttwin-mesh-01\n", u64 vertices, u64 triangles, u8 closed, u32 files;
// per file: u32 length, its name relative to the main file's folder (or as assimp gave it when
// elsewhere), 64 hex digits of its SHA-256; then the float vertices and the int triangles.
const std::string kTag = "planttwin-mesh-01\n";

std::string key_of(const std::string& sha256, std::size_t max_triangles) {
  const std::string k = kTag + mesh_reader_version() + "\n" + sha256 + " " + std::to_string(max_triangles);
  return sha256_hex(k);  // "" when OpenSSL fails: then no file is read or written
}

std::string folder_prefix(const std::string& path) {
  const std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? std::string() : parent + "/";
}

template <class T>
void put(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

struct In {
  const unsigned char* p;
  std::size_t left;
  template <class T>
  bool get(T& v) {
    if (left < sizeof v) return false;
    std::memcpy(&v, p, sizeof v);
    p += sizeof v, left -= sizeof v;
    return true;
  }
  bool bytes(std::string& s, std::size_t n) {
    if (left < n) return false;
    s.assign(reinterpret_cast<const char*>(p), n);
    p += n, left -= n;
    return true;
  }
};

}  // namespace

void set_mesh_cache(const MeshCacheOptions& opt) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_options = opt;
}

MeshCacheOptions mesh_cache() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_options;
}

bool mesh_cache_load(const MeshCacheOptions& opt, const std::string& path, const std::string& sha256,
                     std::size_t max_triangles, MeshModel& model, std::vector<std::string>& file_sha256) {
  if (opt.dir.empty()) return false;
  const std::string key = key_of(sha256, max_triangles);
  if (key.empty() || sha256.empty()) return false;
  const CacheBlob b = cache_read(opt.dir, key + ".mesh");
  if (!b.data) return false;
  In in{b.data.get(), b.size};
  std::string tag;
  std::uint64_t nv = 0, nt = 0;
  std::uint8_t closed = 0;
  std::uint32_t nf = 0;
  if (!in.bytes(tag, kTag.size()) || tag != kTag || !in.get(nv) || !in.get(nt) || !in.get(closed) || !in.get(nf)) return false;
  if (nt == 0 || nt > max_triangles || nv > 3 * nt || nf == 0 || nf > 4096 || closed > 1) return false;
  MeshModel m;
  std::vector<std::string> shas;
  const std::string prefix = folder_prefix(path);
  for (std::uint32_t i = 0; i < nf; ++i) {
    std::uint32_t len = 0;
    std::string name, hex;
    if (!in.get(len) || len > 4096 || !in.bytes(name, len) || !in.bytes(hex, 64)) return false;
    const std::string file = std::filesystem::path(name).is_absolute() ? name : prefix + name;
    if (i == 0 && (file != path || hex != sha256)) return false;
    if (i > 0) {
      // a file assimp opened besides the model: still there, still the same bytes
      const std::string h = sha256_file_hex(file);
      if (h.empty() || h != hex) return false;
    }
    m.files.push_back(file);
    shas.push_back(hex);
  }
  if (in.left != nv * sizeof(float) * 3 + nt * sizeof(int) * 3) return false;
  m.vertices.resize(static_cast<std::size_t>(nv));
  m.triangles.resize(static_cast<std::size_t>(nt));
  std::memcpy(m.vertices.data(), in.p, m.vertices.size() * sizeof m.vertices[0]);
  std::memcpy(m.triangles.data(), in.p + m.vertices.size() * sizeof m.vertices[0], m.triangles.size() * sizeof m.triangles[0]);
  for (const auto& v : m.vertices)
    for (float x : v)
      if (!std::isfinite(x)) return false;
  for (const auto& t : m.triangles)
    for (int k : t)
      if (k < 0 || static_cast<std::uint64_t>(k) >= nv) return false;
  m.closed = closed != 0;
  model = std::move(m);
  file_sha256 = std::move(shas);
  return true;
}

void mesh_cache_store(const MeshCacheOptions& opt, const std::string& path, const std::string& sha256,
                      std::size_t max_triangles, const MeshModel& model, const std::vector<std::string>& file_sha256) {
  if (opt.dir.empty() || sha256.empty() || model.triangles.size() < opt.min_triangles || model.files.empty() ||
      model.files.size() != file_sha256.size() || model.files[0] != path || file_sha256[0] != sha256)
    return;
  const std::string prefix = folder_prefix(path);
  std::string out = kTag;
  put(out, static_cast<std::uint64_t>(model.vertices.size()));
  put(out, static_cast<std::uint64_t>(model.triangles.size()));
  put(out, static_cast<std::uint8_t>(model.closed ? 1 : 0));
  put(out, static_cast<std::uint32_t>(model.files.size()));
  for (std::size_t i = 0; i < model.files.size(); ++i) {
    const std::string& f = model.files[i];
    const std::string name = !prefix.empty() && f.compare(0, prefix.size(), prefix) == 0 ? f.substr(prefix.size()) : f;
    put(out, static_cast<std::uint32_t>(name.size()));
    out += name;
    out += file_sha256[i];
  }
  out.append(reinterpret_cast<const char*>(model.vertices.data()), model.vertices.size() * sizeof model.vertices[0]);
  out.append(reinterpret_cast<const char*>(model.triangles.data()), model.triangles.size() * sizeof model.triangles[0]);
  const std::string key = key_of(sha256, max_triangles);
  if (!key.empty()) cache_write(opt.dir, key + ".mesh", out.data(), out.size(), opt.max_bytes);
}

}  // namespace planttwin
