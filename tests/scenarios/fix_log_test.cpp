// fix_hash (H-05, docs/hash.md "The fix hash"): the chain h_k = SHA-256(h_{k-1} || line_k) from 32
// zero bytes, line_k = "<t>,<tag>,<x mm>,<y mm>,<z mm>,<floor>\n", recomputed here independently
// (the loader's one-shot SHA-256 over the bytes written out by hand) for rows with negative
// coordinates, half millimetres, non-finite values, large times, empty and non-ASCII ids.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "scenarios/fix_log.h"
#include "scenarios/loader.h"

namespace planttwin {
namespace {

std::string bytes_of_hex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

std::string hex_of_bytes(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : bytes) hex += digits[c >> 4], hex += digits[c & 15];
  return hex;
}

TEST(FixLog, H05_TheHashIsTheDocumentedChain) {
  FixLog log;
  EXPECT_EQ(log.hash_hex(), std::string(64, '0'));
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<std::pair<FixRow, std::string>> rows = {
      {{1500000, "T1", 12.3456, -7.0004, 1.2, "1", 0.1, 0.2}, "1500000,T1,12346,-7000,1200,1\n"},
      {{0, "", -0.0005, 0.0005, -1234.5676, "", std::nullopt, std::nullopt}, "0,,-1,1,-1234568,\n"},
      {{-3, "标签-7", inf, std::nan(""), 1e9, "B2-3", std::nullopt, 1.0}, "-3,标签-7,0,0,1000000000000,B2-3\n"},
      {{9007199254740993LL, "T\"x", 0, 0, 0, "roof", std::nullopt, std::nullopt}, "9007199254740993,T\"x,0,0,0,roof\n"},
  };
  std::string chain(32, '\0');
  for (const auto& [row, line] : rows) {
    log.add(row);
    chain = bytes_of_hex(sha256_hex(chain + line));
    EXPECT_EQ(log.hash_hex(), hex_of_bytes(chain)) << line;
  }
  EXPECT_EQ(log.count(), rows.size());
}

}  // namespace
}  // namespace planttwin
