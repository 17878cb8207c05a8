// One YAML node as flow text, scalars quoted in the source kept quoted (import/import_map.cpp).
#pragma once
#include <yaml-cpp/yaml.h>

#include <string>

namespace planttwin {

std::string yaml_flow(const YAML::Node& n);

}  // namespace planttwin
