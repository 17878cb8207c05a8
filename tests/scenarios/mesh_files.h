// Small model files written by the tests (site-v1 mesh obstacles): a box as OBJ text and as glTF
// 2.0 with its buffer embedded as base64, both without any exporter. Shared by the scenarios,
// plant and radio tests.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

namespace planttwin::test {

// The 8 corners of the box lo..hi (index bit 0: x = hi, bit 1: y = hi, bit 2: z = hi) in the
// site's frame (z up), and 12 triangles wound counter-clockwise seen from outside.
inline std::vector<std::array<double, 3>> box_corners(std::array<double, 3> lo, std::array<double, 3> hi) {
  std::vector<std::array<double, 3>> v;
  for (int i = 0; i < 8; ++i) v.push_back({(i & 1) ? hi[0] : lo[0], (i & 2) ? hi[1] : lo[1], (i & 4) ? hi[2] : lo[2]});
  return v;
}
inline const std::vector<std::array<int, 3>>& box_triangles() {
  static const std::vector<std::array<int, 3>> t = {{0, 2, 3}, {0, 3, 1}, {4, 5, 7}, {4, 7, 6}, {0, 1, 5}, {0, 5, 4},
                                                    {2, 6, 7}, {2, 7, 3}, {0, 4, 6}, {0, 6, 2}, {1, 3, 7}, {1, 7, 5}};
  return t;
}

// A site-frame point in a y-up model file (glTF's frame): site (x, y, z) = file (x, -z, y).
inline std::array<double, 3> to_y_up(const std::array<double, 3>& p) { return {p[0], p[2], -p[1]}; }

// The box as OBJ text, its coordinates written with +z up (`up: z`) or +y up (the default).
// `inward`: every triangle turned over.
inline std::string box_obj(std::array<double, 3> lo, std::array<double, 3> hi, bool z_up, bool inward = false) {
  std::ostringstream o;
  o.precision(17);
  o << "# a box\n";
  for (const auto& c : box_corners(lo, hi)) {
    const auto p = z_up ? c : to_y_up(c);
    o << "v " << p[0] << " " << p[1] << " " << p[2] << "\n";
  }
  for (const auto& t : box_triangles()) {
    if (inward) o << "f " << t[0] + 1 << " " << t[2] + 1 << " " << t[1] + 1 << "\n";
    else o << "f " << t[0] + 1 << " " << t[1] + 1 << " " << t[2] + 1 << "\n";
  }
  return o.str();
}

inline std::string base64(const std::string& bytes) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const std::uint32_t n = (std::uint32_t(std::uint8_t(bytes[i])) << 16) | (std::uint32_t(std::uint8_t(bytes[i + 1])) << 8) |
                            std::uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += k[(n >> s) & 63];
  }
  if (i < bytes.size()) {
    std::uint32_t n = std::uint32_t(std::uint8_t(bytes[i])) << 16;
    if (i + 1 < bytes.size()) n |= std::uint32_t(std::uint8_t(bytes[i + 1])) << 8;
    out += k[(n >> 18) & 63];
    out += k[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? k[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// The box as a glTF 2.0 file (JSON, +y up as the format says), one mesh, its buffer a data URI.
inline std::string box_gltf(std::array<double, 3> lo, std::array<double, 3> hi) {
  std::string buf;
  float mn[3] = {1e30f, 1e30f, 1e30f}, mx[3] = {-1e30f, -1e30f, -1e30f};
  for (const auto& c : box_corners(lo, hi)) {
    const auto p = to_y_up(c);
    for (int i = 0; i < 3; ++i) {
      const float f = static_cast<float>(p[static_cast<std::size_t>(i)]);
      mn[i] = std::min(mn[i], f), mx[i] = std::max(mx[i], f);
      char b[4];
      std::memcpy(b, &f, 4);
      buf.append(b, 4);
    }
  }
  for (const auto& t : box_triangles())
    for (int i : t) {
      const std::uint16_t u = static_cast<std::uint16_t>(i);
      char b[2];
      std::memcpy(b, &u, 2);
      buf.append(b, 2);
    }
  std::ostringstream o;
  o << R"({"asset": {"version": "2.0"}, "scene": 0, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0}],
"meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1, "mode": 4}]}],
"buffers": [{"byteLength": )"
    << buf.size() << R"(, "uri": "data:application/octet-stream;base64,)" << base64(buf) << R"("}],
"bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": 96}, {"buffer": 0, "byteOffset": 96, "byteLength": 72}],
"accessors": [{"bufferView": 0, "componentType": 5126, "count": 8, "type": "VEC3", "min": [)"
    << mn[0] << ", " << mn[1] << ", " << mn[2] << "], \"max\": [" << mx[0] << ", " << mx[1] << ", " << mx[2] << R"(]},
  {"bufferView": 1, "componentType": 5123, "count": 36, "type": "SCALAR"}]}
)";
  return o.str();
}

}  // namespace planttwin::test
