// A site's model files as read (scenarios/mesh/mesh_file.h MeshModel: assimp's triangles welded,
// closedness judged) kept in the model cache (sim/plant/model_cache.h) as `.mesh` files, so that a
// second load of a site skips assimp. The key is the SHA-256 of the model file itself, the
// triangle limit, the reader's version (mesh_reader_version(): assimp's and planttwin's) and this
// format; the files assimp opened besides it (a .gltf's .bin, an .obj's
// .mtl) are listed in the entry with their SHA-256 and must still match, else the model is read
// again. Process-wide setting: the command line sets the folder (planttwin check --model-cache);
// by default there is none and the loader writes nothing. docs/plant.md, "Model cache".
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "scenarios/mesh/mesh_file.h"

namespace planttwin {

struct MeshCacheOptions {
  std::string dir;                          // "" = none (the default)
  std::size_t min_triangles = 20'000;       // smaller models are read faster than looked up. Default 20,000
  std::uint64_t max_bytes = 1024ull << 20;  // the folder's bound (shared with the .bvh files). Default 1 GiB
};
void set_mesh_cache(const MeshCacheOptions& opt);
MeshCacheOptions mesh_cache();

// The model whose main file (`path`, as the loader resolved it) has SHA-256 `sha256`, read with
// limit `max_triangles`: fills `model` (its `files` as assimp would name them from `path`) and the
// per-file SHA-256 in `file_sha256` (same order). False when there is no usable entry.
bool mesh_cache_load(const MeshCacheOptions& opt, const std::string& path, const std::string& sha256,
                     std::size_t max_triangles, MeshModel& model, std::vector<std::string>& file_sha256);
// Keeps `model` (best effort). `file_sha256[i]` is the SHA-256 of model.files[i].
void mesh_cache_store(const MeshCacheOptions& opt, const std::string& path, const std::string& sha256,
                      std::size_t max_triangles, const MeshModel& model, const std::vector<std::string>& file_sha256);

}  // namespace planttwin
