// From a drawing and its map to a site-v1 file (docs/import.md): zones, buildings, obstacles,
// anchors, cameras and the boundary, with a summary of what was made and of everything left out.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "import/drawing.h"
#include "import/import_map.h"

namespace planttwin {

// One entity the import did not take, or took with a change worth saying.
struct ImportNote {
  std::string layer, handle, type;  // where in the drawing ("" when not one entity)
  std::string reason;               // why, in English
};

struct ImportResult {
  std::string site_yaml;                 // the site file's text
  std::map<std::string, int> made;       // "zones", "buildings", "obstacles", "anchors", "cameras", "bounds"
  std::vector<ImportNote> skipped;       // entities left out, with why
  std::vector<ImportNote> notes;         // taken but changed or worth a look (approximations, overlaps)
  std::map<std::string, int> unmapped;   // layer the map does not name -> entities on it
  std::string error;                     // bad input: "layer L, entity H (TYPE): reason"; "" when fine
};

// Makes the site. false and `out.error` set on bad input (an entity the site cannot hold as drawn).
// `drawing_name` and `map_name` go into the file's header comment.
bool import_site(const dxf::Drawing& drawing, const ImportMap& map, ImportResult& out);

// The summary a person reads after an import (English with Chinese headings).
std::string import_summary(const ImportResult& r);

}  // namespace planttwin
