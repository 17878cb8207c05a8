#include "sim/plant/model_cache.h"

#include <btBulletCollisionCommon.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <thread>
#include <vector>

namespace planttwin {

namespace {

namespace fs = std::filesystem;

// File layout: magic (8 bytes), payload size (u64, little-endian as written by this machine),
// payload SHA-256 (32 bytes), payload (Bullet's btQuantizedBvh::serialize buffer, native endian).
constexpr char kMagic[8] = {'P', 'T', 'C', 'A', 'C', 'H', 'E', '1'};
constexpr std::size_t kHeader = 8 + 8 + 32;

// OpenSSL's SHA-256; `ok` turns false on any failure of OpenSSL, and then no digest is used (a
// key or check that did not really hash must never name or pass a cache file).
struct Sha256 {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1;
  Sha256() = default;
  ~Sha256() { EVP_MD_CTX_free(ctx); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void add(const void* p, std::size_t n) { ok = ok && EVP_DigestUpdate(ctx, p, n) == 1; }
  std::array<unsigned char, 32> done() {
    std::array<unsigned char, 32> d{};
    unsigned n = 0;
    ok = ok && EVP_DigestFinal_ex(ctx, d.data(), &n) == 1 && n == 32;
    return d;
  }
};

std::string hex(const std::array<unsigned char, 32>& d) {
  static const char* k = "0123456789abcdef";
  std::string s;
  for (unsigned char c : d) s += k[c >> 4], s += k[c & 15];
  return s;
}

void free_aligned(void* p) { std::free(p); }

// Every node's links inside the array, every leaf's triangle inside the mesh, the bounds usable.
bool sane(btQuantizedBvh& bvh, std::size_t n_triangles) {
  if (!bvh.isQuantized()) return false;
  const auto& nodes = bvh.getQuantizedNodeArray();
  const int n = nodes.size();
  if (n <= 0) return false;
  for (int i = 0; i < n; ++i) {
    const btQuantizedBvhNode& node = nodes[i];
    if (node.isLeafNode()) {
      if (node.getPartId() != 0 || node.getTriangleIndex() < 0 ||
          static_cast<std::size_t>(node.getTriangleIndex()) >= n_triangles)
        return false;
    } else {
      const int esc = node.getEscapeIndex();
      if (esc < 2 || esc > n - i) return false;
    }
  }
  if (!nodes[0].isLeafNode() && nodes[0].getEscapeIndex() != n) return false;
  const btVector3 lo = bvh.unQuantize(nodes[0].m_quantizedAabbMin), hi = bvh.unQuantize(nodes[0].m_quantizedAabbMax);
  for (int k = 0; k < 3; ++k)
    if (!std::isfinite(lo[k]) || !std::isfinite(hi[k]) || lo[k] > hi[k]) return false;
  return true;
}

// Least recently used first out, until the folder's .bvh and .mesh files fit the bound; and
// temporary files of writers that died (older than an hour) removed.
void trim(const std::string& dir, std::uint64_t max_bytes) {
  std::error_code ec;
  struct Entry {
    fs::file_time_type when;
    std::uintmax_t bytes;
    fs::path path;
  };
  std::vector<Entry> all;
  std::uintmax_t total = 0;
  const auto stale = fs::file_time_type::clock::now() - std::chrono::hours(1);
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".tmp") {
      // a writer's file older than an hour was left by a process that died before its rename
      std::error_code e2;
      const auto when = it->last_write_time(e2);
      if (!e2 && when < stale) fs::remove(it->path(), e2);
      continue;
    }
    if (it->path().extension() != ".bvh" && it->path().extension() != ".mesh") continue;
    const auto bytes = it->file_size(ec);
    if (ec) continue;
    const auto when = it->last_write_time(ec);
    if (ec) continue;
    all.push_back({when, bytes, it->path()});
    total += bytes;
  }
  if (total <= max_bytes) return;
  std::sort(all.begin(), all.end(), [](const Entry& a, const Entry& b) { return a.when < b.when; });
  for (const Entry& e : all) {
    if (total <= max_bytes) break;
    if (fs::remove(e.path, ec)) total -= e.bytes;
  }
}

}  // namespace

std::string bvh_cache_key(const float* xyz, std::size_t n_vertices, const int* indices, std::size_t n_triangles) {
  Sha256 h;
  const std::string tag = "planttwin-bvh-01 bullet " + std::to_string(BT_BULLET_VERSION) + " scalar " +
                          std::to_string(sizeof(btScalar)) + " object " + std::to_string(sizeof(btQuantizedBvh)) +
                          " pointer " + std::to_string(sizeof(void*)) + "\n";
  h.add(tag.data(), tag.size());
  const std::uint64_t sizes[2] = {n_vertices, n_triangles};
  h.add(sizes, sizeof sizes);
  h.add(xyz, n_vertices * 3 * sizeof(float));
  h.add(indices, n_triangles * 3 * sizeof(int));
  const auto d = h.done();
  return h.ok ? hex(d) : std::string();
}

std::string cache_sha256_hex(const void* data, std::size_t size) {
  Sha256 h;
  h.add(data, size);
  const auto d = h.done();
  return h.ok ? hex(d) : std::string();
}

CacheBlob cache_read(const std::string& dir, const std::string& name) {
  CacheBlob out;
  if (dir.empty() || name.empty() || name.front() == '.') return out;  // no key: no file
  const fs::path path = fs::path(dir) / name;
  std::ifstream in(path, std::ios::binary);
  if (!in) return out;
  char head[kHeader];
  if (!in.read(head, kHeader) || std::memcmp(head, kMagic, 8) != 0) return out;
  std::uint64_t size = 0;
  std::memcpy(&size, head + 8, 8);
  std::error_code ec;
  const auto on_disk = fs::file_size(path, ec);
  if (ec || on_disk != kHeader + size || size > (std::uint64_t{1} << 34)) return out;
  const std::size_t alloc = std::max<std::size_t>(16, (static_cast<std::size_t>(size) + 15) / 16 * 16);
  std::unique_ptr<unsigned char[], void (*)(void*)> buf(static_cast<unsigned char*>(std::aligned_alloc(16, alloc)), free_aligned);
  if (!buf || !in.read(reinterpret_cast<char*>(buf.get()), static_cast<std::streamsize>(size))) return out;
  Sha256 h;
  h.add(buf.get(), static_cast<std::size_t>(size));
  const auto digest = h.done();
  if (!h.ok || std::memcmp(digest.data(), head + 16, 32) != 0) return out;
  fs::last_write_time(path, fs::file_time_type::clock::now(), ec);  // used: last out
  out.data = std::move(buf);
  out.size = static_cast<std::size_t>(size);
  return out;
}

bool cache_write(const std::string& dir, const std::string& name, const void* payload, std::size_t size,
                 std::uint64_t max_bytes) {
  if (dir.empty() || name.empty() || name.front() == '.') return false;  // no key: no file
  std::error_code ec;
  fs::create_directories(dir, ec);
  Sha256 h;
  h.add(payload, size);
  const auto digest = h.done();
  if (!h.ok) return false;
  // a name no other writer uses, renamed into place when complete
  static std::atomic<unsigned> counter{0};
  const fs::path path = fs::path(dir) / name;
  const fs::path tmp = fs::path(dir) / (name + "." + std::to_string(::getpid()) + "." +
                                        std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id())) + "." +
                                        std::to_string(counter++) + ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    const std::uint64_t size64 = size;
    out.write(kMagic, 8);
    out.write(reinterpret_cast<const char*>(&size64), 8);
    out.write(reinterpret_cast<const char*>(digest.data()), 32);
    out.write(static_cast<const char*>(payload), static_cast<std::streamsize>(size));
    out.close();
    if (!out) {
      fs::remove(tmp, ec);
      return false;
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return false;
  }
  trim(dir, max_bytes);
  return true;
}

CachedBvh bvh_cache_load(const BvhCacheOptions& opt, const std::string& key, std::size_t n_triangles) {
  CachedBvh out;
  CacheBlob b = cache_read(opt.dir, key + ".bvh");
  if (!b.data || b.size < sizeof(btQuantizedBvh) || b.size > (std::size_t{1} << 32)) return out;
  // the object's own header says how big the arrays after it are: Bullet checks they fit
  btQuantizedBvh* bvh = btQuantizedBvh::deSerializeInPlace(b.data.get(), static_cast<unsigned>(b.size), false);
  if (!bvh || !sane(*bvh, n_triangles)) return out;
  out.buffer = std::move(b.data);
  out.bvh = bvh;
  return out;
}

bool bvh_cache_store(const BvhCacheOptions& opt, const std::string& key, btQuantizedBvh& bvh) {
  if (opt.dir.empty()) return false;
  const unsigned size = bvh.calculateSerializeBufferSize();
  const std::size_t alloc = (static_cast<std::size_t>(size) + 15) / 16 * 16;
  std::unique_ptr<unsigned char[], void (*)(void*)> buf(static_cast<unsigned char*>(std::aligned_alloc(16, alloc)), free_aligned);
  if (!buf) return false;
  std::memset(buf.get(), 0, alloc);  // padding inside the object is written too: keep it defined
  if (!bvh.serialize(buf.get(), size, false)) return false;
  return cache_write(opt.dir, key + ".bvh", buf.get(), size, opt.max_bytes);
}

}  // namespace planttwin
