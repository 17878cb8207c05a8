// A build without assimp (scenarios/mesh/CMakeLists.txt): a site naming a model file is refused.
#include "scenarios/mesh/mesh_file.h"

namespace planttwin {

MeshReadResult read_mesh_model(const std::string&, std::size_t, MeshModel&) {
  MeshReadResult r;
  r.error = "this planttwin was built without assimp (Debian: libassimp-dev; scripts/setup installs it)";
  return r;
}

void place_mesh(const MeshModel&, const MeshPlacement&, ObstacleMesh&) {}

std::string mesh_reader_version() { return "none"; }

MeshReadResult read_mesh_file(const std::string& path, const MeshPlacement&, std::size_t max_triangles, ObstacleMesh&) {
  MeshModel m;
  return read_mesh_model(path, max_triangles, m);
}

}  // namespace planttwin
