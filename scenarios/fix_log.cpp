#include "scenarios/fix_log.h"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "engine/byte_codec.h"

namespace planttwin {

void AccuracyAccumulator::add(double e) {
  hist_.add(e);
  sumsq_ += e * e;
  max_ = std::max(max_, e);
}

AccuracyFigures AccuracyAccumulator::figures() const {
  AccuracyFigures f;
  f.n = hist_.n();
  if (f.n == 0) return f;
  f.mean = hist_.mean();
  f.rmse = std::sqrt(sumsq_ / static_cast<double>(f.n));
  f.median = hist_.quantile(0.5);
  f.cdf68 = hist_.quantile(0.6827);
  f.cdf95 = hist_.quantile(0.95);
  f.p95 = f.cdf95;
  f.max = max_;
  f.curve.reserve(kAccuracyCurvePoints);
  for (int k = 1; k <= kAccuracyCurvePoints; ++k) f.curve.push_back(hist_.quantile(static_cast<double>(k) / kAccuracyCurvePoints));
  return f;
}

std::vector<double> accuracy_curve(std::vector<double> errors) {
  std::vector<double> out;
  if (errors.empty()) return out;
  std::sort(errors.begin(), errors.end());
  const double n = static_cast<double>(errors.size());
  for (int k = 1; k <= kAccuracyCurvePoints; ++k) {
    // nearest rank, as quantile_nearest_rank and ErrorHistogram::quantile
    const double rank = std::clamp(std::ceil(static_cast<double>(k) / kAccuracyCurvePoints * n), 1.0, n);
    out.push_back(errors[static_cast<size_t>(rank) - 1]);
  }
  return out;
}

void AccuracyAccumulator::save(ByteWriter& w) const {
  hist_.save(w);
  w.f64(sumsq_);
  w.f64(max_);
}

bool AccuracyAccumulator::load(ByteReader& r) {
  ErrorHistogram h = hist_;
  if (!h.load(r)) return false;
  const double s = r.f64(), m = r.f64();
  if (!r.ok()) return false;
  hist_ = std::move(h);
  sumsq_ = s;
  max_ = m;
  return true;
}

struct FixLog::Digest {
  EVP_MD* md = nullptr;
  EVP_MD_CTX* ctx = nullptr;
  Digest() : md(EVP_MD_fetch(nullptr, "SHA256", nullptr)), ctx(EVP_MD_CTX_new()) {}
  ~Digest() {
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
  }
  Digest(const Digest&) = delete;
  Digest& operator=(const Digest&) = delete;
};

FixLog::FixLog() : digest_(std::make_unique<Digest>()) {}
FixLog::~FixLog() = default;

bool FixLog::open_csv(const std::string& path, std::string& error, std::optional<std::uint64_t> resume_bytes) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path p(path);
  if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
  if (resume_bytes) {
    const auto size = fs::file_size(p, ec);
    if (ec || size < *resume_bytes) {
      error = path + ": cannot continue fixes.csv: the file of the interrupted run is " +
              (ec ? std::string("missing") : "shorter than the checkpoint says (" + std::to_string(size) + " < " +
                                                 std::to_string(*resume_bytes) + " bytes)");
      return false;
    }
    fs::resize_file(p, *resume_bytes, ec);
    if (ec) {
      error = path + ": cannot cut fixes.csv back to the checkpoint: " + ec.message();
      return false;
    }
    csv_ = std::make_unique<std::ofstream>(path, std::ios::binary | std::ios::app);
  } else {
    csv_ = std::make_unique<std::ofstream>(path, std::ios::binary | std::ios::trunc);
    if (*csv_) *csv_ << "t,tag,x,y,z,floor,error_2d,error_3d\n";
  }
  if (!*csv_) {
    error = path + ": cannot write fixes.csv";
    csv_.reset();
    return false;
  }
  csv_path_ = path;
  return true;
}

namespace {
long long to_mm(double v) { return std::isfinite(v) ? std::llround(v * 1000.0) : 0; }
}  // namespace

void FixLog::add(const FixRow& f) {
  char buf[160];
  // the hashed line: integers only, so that the hash does not depend on how doubles print
  // (decimal integers as printf's %lld writes them)
  const auto integer = [&](long long v) {
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    line_.append(buf, r.ptr);
  };
  line_.clear();
  integer(static_cast<long long>(f.t));
  line_ += ',';
  line_ += f.tag;
  for (const double v : {f.x, f.y, f.z}) {
    line_ += ',';
    integer(to_mm(v));
  }
  line_ += ',';
  line_ += f.floor;
  line_ += '\n';
  // SHA-256 of the previous chain value followed by the line
  unsigned int len = 0;
  unsigned char next[EVP_MAX_MD_SIZE];
  const bool ok = digest_->md && digest_->ctx && EVP_DigestInit_ex(digest_->ctx, digest_->md, nullptr) == 1 &&
                  EVP_DigestUpdate(digest_->ctx, chain_, sizeof chain_) == 1 &&
                  EVP_DigestUpdate(digest_->ctx, line_.data(), line_.size()) == 1 && EVP_DigestFinal_ex(digest_->ctx, next, &len) == 1 &&
                  len == sizeof chain_;
  if (ok) {
    std::copy(next, next + sizeof chain_, chain_);
  } else {  // (not seen: the same digest the one-shot way)
    std::string block(reinterpret_cast<const char*>(chain_), 32);
    block += line_;
    EVP_Digest(block.data(), block.size(), chain_, &len, EVP_sha256(), nullptr);
  }
  ++count_;
  if (!csv_) return;
  std::ofstream& o = *csv_;
  int n = std::snprintf(buf, sizeof buf, "%.6f,", to_seconds(f.t));
  o.write(buf, n);
  o << f.tag;
  n = std::snprintf(buf, sizeof buf, ",%.3f,%.3f,%.3f,", f.x, f.y, f.z);
  o.write(buf, n);
  o << f.floor << ',';
  if (f.error_2d) {
    n = std::snprintf(buf, sizeof buf, "%.3f", *f.error_2d);
    o.write(buf, n);
  }
  o << ',';
  if (f.error_3d) {
    n = std::snprintf(buf, sizeof buf, "%.3f", *f.error_3d);
    o.write(buf, n);
  }
  o << '\n';
}

bool FixLog::close(std::string& error) {
  if (!csv_) return true;
  csv_->flush();
  const bool ok = static_cast<bool>(*csv_);
  csv_.reset();
  if (!ok) error = csv_path_ + ": writing fixes.csv failed";
  return ok;
}

std::string FixLog::hash_hex() const {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : chain_) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

void FixLog::save(ByteWriter& w) {
  w.str(std::string_view(reinterpret_cast<const char*>(chain_), 32));
  w.u64(count_);
  std::uint64_t bytes = 0;
  if (csv_) {
    csv_->flush();
    bytes = static_cast<std::uint64_t>(csv_->tellp());
  }
  w.u64(bytes);
}

bool FixLog::load(ByteReader& r, std::uint64_t& csv_bytes) {
  const std::string chain = r.str();
  const std::uint64_t count = r.u64();
  csv_bytes = r.u64();
  if (!r.ok()) return false;
  if (chain.size() != 32) {
    r.fail("the fix hash chain is not 32 bytes");
    return false;
  }
  std::copy(chain.begin(), chain.end(), chain_);
  count_ = count;
  return true;
}

}  // namespace planttwin
