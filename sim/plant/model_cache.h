// The model cache: what is slow to make from a plant's model and the same every time, kept on disk
// between runs (issue 15: `planttwin check` on a site with a 100,000-triangle model spent most of
// its load reading the model with assimp and building Bullet's tree). Content-addressed: a file's
// name is the SHA-256 of everything it was made from, so it is only ever used for exactly that
// input, and holds exactly what would be made again (tests/plant/bvh_cache_test.cpp,
// tests/plant/check_command_test.cpp). Two kinds of file share the folder: `.bvh`, the plant's
// quantized BVH (key: the float vertices and triangle indices Bullet builds from, Bullet's
// version); `.mesh`, a model file as read (scenarios/mesh_cache.h; key: the file's SHA-256).
// A file that is missing, truncated, corrupted (its payload's SHA-256), of another format or, for
// a tree, structurally wrong (a node pointing past the arrays) is ignored and made again; a folder
// that cannot be written only costs the making. Files are written under a temporary name and
// renamed, so processes sharing the folder never read half a file. The folder is kept under a
// size bound, least recently used files removed first. docs/plant.md, "Model cache".
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

class btQuantizedBvh;

namespace planttwin {

struct BvhCacheOptions {
  std::string dir;                              // "" = no cache (the default: the library writes no files)
  std::size_t min_triangles = 20'000;           // smaller plants are built faster than read. Default 20,000
  std::uint64_t max_bytes = 1024ull << 20;      // the folder's bound, least recently used out first. Default 1 GiB
};

// A payload read from the cache, 16-byte aligned.
struct CacheBlob {
  std::unique_ptr<unsigned char[], void (*)(void*)> data{nullptr, nullptr};
  std::size_t size = 0;
};
// The payload of DIR/NAME (NAME = key + extension), checked against its SHA-256; empty when
// missing or unusable. Touches the file (least recently used order).
CacheBlob cache_read(const std::string& dir, const std::string& name);
// Writes DIR/NAME atomically (best effort: false when it could not), then trims the folder's
// .bvh and .mesh files to max_bytes.
bool cache_write(const std::string& dir, const std::string& name, const void* payload, std::size_t size,
                 std::uint64_t max_bytes);
// Lower-case hex SHA-256 of bytes.
std::string cache_sha256_hex(const void* data, std::size_t size);

// Lower-case hex SHA-256 naming the tree of these arrays.
std::string bvh_cache_key(const float* xyz, std::size_t n_vertices, const int* indices, std::size_t n_triangles);

// A tree read from the cache: the buffer Bullet's in-place tree lives in (16-byte aligned).
struct CachedBvh {
  std::unique_ptr<unsigned char[], void (*)(void*)> buffer{nullptr, nullptr};
  btQuantizedBvh* bvh = nullptr;  // inside buffer
};

// The tree for `key`, checked against the arrays' sizes (n_triangles leaves' indices, node
// links); empty when there is none usable. Touches the file (least recently used order).
CachedBvh bvh_cache_load(const BvhCacheOptions& opt, const std::string& key, std::size_t n_triangles);
// Writes the tree for `key` (best effort: false when it could not be written), then trims the
// folder to opt.max_bytes.
bool bvh_cache_store(const BvhCacheOptions& opt, const std::string& key, btQuantizedBvh& bvh);

}  // namespace planttwin
