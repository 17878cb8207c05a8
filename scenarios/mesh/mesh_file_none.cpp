// A build without assimp (scenarios/mesh/CMakeLists.txt): a site naming a model file is refused.
#include "scenarios/mesh/mesh_file.h"

namespace planttwin {

MeshReadResult read_mesh_file(const std::string&, const MeshPlacement&, std::size_t, ObstacleMesh&) {
  MeshReadResult r;
  r.error = "this planttwin was built without assimp (Debian: libassimp-dev; scripts/setup installs it)";
  return r;
}

}  // namespace planttwin
