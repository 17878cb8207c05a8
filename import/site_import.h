// From a drawing and its map to a site-v1 file (docs/import.md): zones, buildings, obstacles,
// anchors, cameras and the boundary, with a summary of what was made and of everything left out.
#pragma once
#include <map>
#include <set>
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

// What a site file holds beyond what the import makes, kept by `--update`: top-level keys, and per
// item (list -> id) its other keys, each as flow YAML text, in file order.
struct HandParts {
  std::vector<std::pair<std::string, std::string>> top;
  std::map<std::string, std::map<std::string, std::vector<std::pair<std::string, std::string>>>> items;
  // whole obstacles the drawing can never make (3D models, `mesh:`), as OLD writes them (flow YAML)
  std::vector<std::string> models;
  // ids of the drawing's obstacles a model of `models` stands in for (the model has their id): not
  // written, so that the site keeps one obstacle per id
  std::set<std::string> replaced_by_models;
};

// Makes the site. false and `out.error` set on bad input (an entity the site cannot hold as drawn).
// `hand`: parts of an earlier site to write back in (top-level keys after the map's site block,
// item keys after the made ones).
bool import_site(const dxf::Drawing& drawing, const ImportMap& map, ImportResult& out, const HandParts* hand = nullptr);

// `--update OLD`: imports again and keeps what OLD holds beyond the import (rules, calendar, a zone's
// schedule or authorisation, ...). Items whose id the drawing no longer makes are dropped (listed).
// `changes` tells what is new, gone, changed (by key) and kept. false: `error` (OLD unreadable or
// not YAML: "file:line: message"), or out.error (the drawing).
bool update_site(const dxf::Drawing& drawing, const ImportMap& map, const std::string& old_path, ImportResult& out,
                 std::string& changes, std::string& error);

// The summary a person reads after an import (English with Chinese headings).
std::string import_summary(const ImportResult& r);

}  // namespace planttwin
