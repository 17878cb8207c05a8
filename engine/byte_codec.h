// A small binary codec for checkpoints (docs/checkpoint.md): fixed-width little-endian integers,
// IEEE-754 doubles bit for bit, length-prefixed strings and sequences. The writer appends to a
// string; the reader never reads past its input and never allocates more than the input could
// hold, so a damaged or hostile file gives an error, not a crash.
//
// Used by engine/checkpoint.cpp for the engine state and by the layers above for their own parts
// of a checkpoint (the simulator's random streams and solver, the runner's collected results).
// Thread-safety: one writer or reader per thread.
#pragma once
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace planttwin {

class ByteWriter {
 public:
  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) u8(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) u8(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void i32(std::int32_t v) { u32(static_cast<std::uint32_t>(v)); }
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void f64(double v) {
    std::uint64_t b = 0;
    std::memcpy(&b, &v, sizeof b);
    u64(b);
  }
  void size(std::size_t n) { u64(static_cast<std::uint64_t>(n)); }
  void str(std::string_view s) {
    size(s.size());
    out_.append(s.data(), s.size());
  }
  void strs(const std::vector<std::string>& v) {
    size(v.size());
    for (const std::string& s : v) str(s);
  }
  void opt_i64(const std::optional<std::int64_t>& v) {
    boolean(v.has_value());
    if (v) i64(*v);
  }
  void opt_f64(const std::optional<double>& v) {
    boolean(v.has_value());
    if (v) f64(*v);
  }
  void raw(std::string_view s) { out_.append(s.data(), s.size()); }  // no length prefix
  const std::string& bytes() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::size_t position() const { return pos_; }
  bool at_end() const { return pos_ == in_.size(); }
  // Marks the input bad (the first reason wins); every later read returns zeros.
  void fail(const std::string& why) {
    if (error_.empty()) error_ = why + " (at byte " + std::to_string(pos_) + ")";
  }

  std::uint8_t u8() {
    if (!need(1)) return 0;
    return static_cast<std::uint8_t>(in_[pos_++]);
  }
  bool boolean() {
    const std::uint8_t v = u8();
    if (v > 1) fail("a flag is neither 0 nor 1");
    return v == 1;
  }
  std::uint32_t u32() {
    if (!need(4)) return 0;
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(in_[pos_++])) << (8 * i);
    return v;
  }
  std::uint64_t u64() {
    if (!need(8)) return 0;
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(in_[pos_++])) << (8 * i);
    return v;
  }
  std::int32_t i32() { return static_cast<std::int32_t>(u32()); }
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  double f64() {
    const std::uint64_t b = u64();
    double v = 0;
    std::memcpy(&v, &b, sizeof v);
    return v;
  }
  // A count of elements each at least `min_bytes` long: refused when the rest of the input could
  // not hold them (so a corrupt count never allocates gigabytes).
  std::size_t size(std::size_t min_bytes = 1) {
    const std::uint64_t n = u64();
    if (!ok()) return 0;
    const std::size_t left = in_.size() - pos_;
    if (n > left / (min_bytes ? min_bytes : 1)) {
      fail("a count of " + std::to_string(n) + " does not fit in the rest of the input");
      return 0;
    }
    return static_cast<std::size_t>(n);
  }
  void skip(std::size_t n) {
    if (need(n)) pos_ += n;
  }
  std::string str() {
    const std::size_t n = size(1);
    if (!need(n)) return {};
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  std::vector<std::string> strs() {
    std::vector<std::string> v(size(8));
    for (std::string& s : v) s = str();
    return v;
  }
  std::optional<std::int64_t> opt_i64() {
    if (!boolean()) return std::nullopt;
    return i64();
  }
  std::optional<double> opt_f64() {
    if (!boolean()) return std::nullopt;
    return f64();
  }
  // An enum stored as u8, checked against its number of values.
  template <class E>
  E enumeration(std::size_t count) {
    const std::uint8_t v = u8();
    if (v >= count) fail("an enum value " + std::to_string(v) + " is out of range");
    return static_cast<E>(v < count ? v : 0);
  }

 private:
  bool need(std::size_t n) {
    if (!ok()) return false;
    if (in_.size() - pos_ < n) {
      fail("the input ends early");
      return false;
    }
    return true;
  }
  std::string_view in_;
  std::size_t pos_ = 0;
  std::string error_;
};

}  // namespace planttwin
