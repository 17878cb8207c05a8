// `planttwin import --update OLD`: import again, keep what OLD holds beyond the import, and say what
// changed. Items are matched by id within their list; a key is the import's when the new import
// writes it, else the hand's (kept as OLD writes it).
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "import/site_import.h"
#include "import/yaml_flow.h"

namespace planttwin {

namespace {

const char* const kLists[] = {"buildings", "obstacles", "zones", "anchors", "cameras"};

// which lists (and bounds) the map makes: those stay the drawing's, whatever OLD holds
std::set<std::string> made_by_map(const ImportMap& map) {
  std::set<std::string> m;
  for (const auto& [name, r] : map.layers) {
    if (r.as == LayerUse::zone) m.insert("zones");
    if (r.as == LayerUse::building) m.insert("buildings");
    if (r.as == LayerUse::obstacle) m.insert("obstacles");
    if (r.as == LayerUse::anchor) m.insert("anchors");
    if (r.as == LayerUse::camera) m.insert("cameras");
    if (r.as == LayerUse::fence) m.insert("bounds");
  }
  return m;
}

std::string id_of(const YAML::Node& item) { return item.IsMap() && item["id"] && item["id"].IsScalar() ? item["id"].Scalar() : ""; }

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

bool update_site(const dxf::Drawing& d, const ImportMap& map, const std::string& old_path, ImportResult& out, std::string& changes,
                 std::string& error) {
  YAML::Node old;
  try {
    old = YAML::LoadFile(old_path);
  } catch (const YAML::BadFile&) {
    error = old_path + ": cannot read the site to update";
    return false;
  } catch (const YAML::Exception& e) {
    error = old_path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg;
    return false;
  }
  if (!old.IsMap()) {
    error = old_path + ": a site file is a YAML mapping";
    return false;
  }
  // 1. the plain import, to know which keys it writes
  ImportResult fresh;
  if (!import_site(d, map, fresh)) {
    out = fresh;
    return false;
  }
  const YAML::Node nw = YAML::Load(fresh.site_yaml);
  const std::set<std::string> made = made_by_map(map);

  // 2. what OLD holds beyond that
  HandParts hand;
  std::vector<std::string> kept_top;
  for (const auto& kv : old) {
    const std::string k = kv.first.Scalar();
    if (nw[k] || made.count(k)) continue;
    hand.top.emplace_back(k, yaml_flow(kv.second));
    kept_top.push_back(k);
  }
  std::ostringstream o;
  int kept_keys = 0;
  for (const char* list : kLists) {
    if (!made.count(list)) continue;
    std::map<std::string, YAML::Node> before, after;
    if (old[list] && old[list].IsSequence())
      for (const auto& item : old[list])
        if (!id_of(item).empty()) before.emplace(id_of(item), item);
    if (nw[list])
      for (const auto& item : nw[list]) after.emplace(id_of(item), item);
    std::vector<std::string> added, removed, changed, kept, models, in_place;
    // a 3D model (docs/site-v1.md "Mesh obstacles") never comes from the drawing
    auto is_model = [&](const YAML::Node& item) { return std::string(list) == "obstacles" && item.IsMap() && item["mesh"]; };
    for (const auto& [id, item] : after) {
      auto b = before.find(id);
      if (b == before.end()) {
        added.push_back(id);
        continue;
      }
      if (is_model(b->second)) continue;  // below
      std::vector<std::string> keys_changed, keys_kept;
      for (const auto& kv : item) {
        const std::string k = kv.first.Scalar();
        if (!b->second[k] || yaml_flow(b->second[k]) != yaml_flow(kv.second)) keys_changed.push_back(k);
      }
      for (const auto& kv : b->second) {
        const std::string k = kv.first.Scalar();
        if (item[k]) continue;
        hand.items[list][id].emplace_back(k, yaml_flow(kv.second));
        keys_kept.push_back(k);
        ++kept_keys;
      }
      if (!keys_changed.empty()) changed.push_back(id + " (" + join(keys_changed) + ")");
      if (!keys_kept.empty()) kept.push_back(id + " (" + join(keys_kept) + ")");
    }
    for (const auto& [id, item] : before) {
      if (is_model(item)) {
        // kept whole; a model put by hand in place of the drawn obstacle of its id stays too, and
        // the drawn one is not written (one obstacle per id)
        hand.models.push_back(yaml_flow(item));
        models.push_back(id);
        if (after.count(id)) hand.replaced_by_models.insert(id), in_place.push_back(id);
      } else if (!after.count(id)) {
        removed.push_back(id);
      }
    }
    if (!models.empty()) kept.push_back("3D models 三维模型 " + join(models));
    if (added.empty() && removed.empty() && changed.empty() && kept.empty()) continue;
    o << list << ":\n";
    if (!added.empty()) o << "  new 新增: " << join(added) << "\n";
    if (!removed.empty()) o << "  gone 删除 (not in the drawing any more): " << join(removed) << "\n";
    if (!changed.empty()) o << "  changed 变更: " << join(changed) << "\n";
    if (!kept.empty()) o << "  kept by hand 保留手工: " << join(kept) << "\n";
    if (!in_place.empty())
      o << "  drawn but not written 图纸中有但未写入 (a 3D model by hand has the id 手工三维模型同ID): " << join(in_place) << "\n";
  }
  if (made.count("bounds") && old["bounds"] && nw["bounds"] && yaml_flow(old["bounds"]) != yaml_flow(nw["bounds"]))
    o << "bounds: changed 变更\n";
  if (!kept_top.empty()) o << "kept by hand 保留手工 (top level): " << join(kept_top) << "\n";
  changes = o.str();
  if (changes.empty()) changes = "no change 无变化\n";

  // 3. the import again, with the hand's parts written back in
  return import_site(d, map, out, &hand);
}

}  // namespace planttwin
