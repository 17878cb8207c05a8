// Loaders for site-v1 and scenario-v1 YAML files. Bad input is answered with an error naming the
// file, line and key, before anything runs (exit code 2 at the command line).
#pragma once
#include <optional>
#include <string>

#include "scenarios/scenario.h"

namespace planttwin {

struct LoadError {
  std::string file;
  int line = 0;      // 1-based; 0 when unknown
  std::string key;   // dotted path of the offending key, e.g. "people[2].tag"
  std::string message;
  // "file:line: key: message"
  std::string to_string() const;
};

// Loads a site file. On error returns the error and leaves `out` unspecified.
std::optional<LoadError> load_site_file(const std::string& path, Site& out);
// Loads a scenario file (and the site it names, relative to the scenario's folder, or inline).
std::optional<LoadError> load_scenario_file(const std::string& path, Scenario& out);
// Same, from text (file is used in messages and to resolve a relative site path).
std::optional<LoadError> load_scenario_text(const std::string& text, const std::string& file, Scenario& out);
std::optional<LoadError> load_site_text(const std::string& text, const std::string& file, Site& out);

// SHA-256 of bytes, lower-case hex.
std::string sha256_hex(const std::string& bytes);
// SHA-256 of a file's bytes, read in blocks (a recording of days is not held in memory); "" when
// it cannot be read.
std::string sha256_file_hex(const std::string& path);
// The site's hash (report `site_sha256`, checkpoints, caches): the site file's SHA-256; with mesh
// obstacles, the SHA-256 of the file's bytes, a newline and one line "mesh ID SHA256" per mesh
// obstacle in file order, so that a changed model file changes it (docs/hash.md).
std::string site_sha256(const std::string& site_bytes, const Site& site);

}  // namespace planttwin
