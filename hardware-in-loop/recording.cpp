#include "hardware-in-loop/recording.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

namespace planttwin::hil {

namespace {

constexpr std::uint32_t kMaxRecordBytes = 256u << 20;  // a larger length is corruption

std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}

void put_u32(std::string& s, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_i64(std::string& s, std::int64_t v) {
  const auto u = static_cast<std::uint64_t>(v);
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((u >> (8 * i)) & 0xff));
}
std::uint32_t get_u32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
std::int64_t get_i64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return static_cast<std::int64_t>(v);
}

std::string to_base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(std::max(n, 0)));
  return out;
}

bool from_base64(const std::string& text, std::string& out) {
  if (text.size() % 4 != 0) return false;
  out.assign(3 * (text.size() / 4), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return false;
  std::size_t pad = 0;  // EVP_DecodeBlock counts the padding's zero bytes
  for (std::size_t k = text.size(); k > 0 && text[k - 1] == '=' && pad < 2; --k) ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);
  return true;
}

nlohmann::json header_json(const RecordingHeader& h) {
  nlohmann::json models = nlohmann::json::array();
  for (const auto& [file, bytes] : h.models) models.push_back({{"file", file}, {"base64", to_base64(bytes)}});
  return {{"models", models},{"product_version", h.product_version}, {"start_unix_us", h.start_unix_us}, {"utc_offset_min", h.utc_offset_min},
          {"with_script", h.with_script},         {"solve_window_us", h.solve_window},  {"scenario_path", h.scenario_path},
          {"scenario_sha256", h.scenario_sha256}, {"scenario_text", h.scenario_text},   {"site_path", h.site_path},
          {"site_sha256", h.site_sha256},         {"site_text", h.site_text},         {"input_batches", h.input_batches}};
}

}  // namespace

std::uint32_t crc32(std::string_view bytes) {
  static const std::array<std::uint32_t, 256> table = make_crc_table();
  std::uint32_t c = 0xFFFFFFFFu;
  for (char ch : bytes) c = table[(c ^ static_cast<unsigned char>(ch)) & 0xff] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

RecordingWriter::~RecordingWriter() { close(); }

bool RecordingWriter::open(const std::string& path, const RecordingHeader& h, std::string& error) {
  std::error_code ec;
  if (std::filesystem::path(path).has_parent_path()) std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    error = path + ": cannot create the recording: " + std::strerror(errno);
    return false;
  }
  path_ = path;
  buf_.assign(kRecordingMagic, sizeof kRecordingMagic);
  put_u32(buf_, kRecordingVersion);
  std::string payload(1, static_cast<char>(RecordKind::header));
  payload += header_json(h).dump();
  record(payload);
  if (!flush()) {
    error = error_;
    return false;
  }
  return true;
}

bool RecordingWriter::append(const std::string& path, std::uint64_t keep_bytes, std::string& error) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd_ < 0) {
    error = path + ": cannot open the recording to continue it: " + std::strerror(errno);
    return false;
  }
  if (::ftruncate(fd_, static_cast<off_t>(keep_bytes)) != 0 || ::lseek(fd_, 0, SEEK_END) < 0) {
    error = path + ": cannot continue the recording: " + std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  path_ = path;
  buf_.clear();
  return true;
}

void RecordingWriter::record(const std::string& payload) {
  put_u32(buf_, static_cast<std::uint32_t>(payload.size()));
  put_u32(buf_, crc32(payload));
  buf_ += payload;
  ++records_;
}

void RecordingWriter::input(Micros t, std::int64_t ts_ms, std::string_view topic, std::string_view body) {
  if (fd_ < 0) return;
  std::string p(1, static_cast<char>(RecordKind::input));
  put_i64(p, t);
  put_i64(p, ts_ms);
  const size_t tl = std::min<size_t>(topic.size(), 255);
  p.push_back(static_cast<char>(tl));
  p.append(topic.substr(0, tl));
  p.append(body);
  record(p);
}

void RecordingWriter::solve(Micros t, int tag) {
  if (fd_ < 0) return;
  std::string p(1, static_cast<char>(RecordKind::solve));
  put_i64(p, t);
  put_u32(p, static_cast<std::uint32_t>(tag));
  record(p);
}

void RecordingWriter::end(Micros t) {
  if (fd_ < 0) return;
  std::string p(1, static_cast<char>(RecordKind::end));
  put_i64(p, t);
  record(p);
}

void RecordingWriter::reached(Micros t) {
  if (fd_ < 0) return;
  std::string p(1, static_cast<char>(RecordKind::reached));
  put_i64(p, t);
  record(p);
}

bool RecordingWriter::flush() {
  if (fd_ < 0 || buf_.empty()) return error_.empty();
  size_t off = 0;
  while (off < buf_.size()) {
    const ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      error_ = path_ + ": writing the recording failed: " + std::strerror(errno);
      buf_.erase(0, off);
      return false;
    }
    off += static_cast<size_t>(n);
  }
  buf_.clear();
  return true;
}

void RecordingWriter::close() {
  if (fd_ < 0) return;
  flush();
  ::fsync(fd_);
  ::close(fd_);
  fd_ = -1;
}

bool scan_recording(const std::string& path, Recording& out, const std::function<bool(const Record&)>& on_record,
                    std::string& error) {
  out = Recording{};
  std::vector<char> buffer(1 << 20);  // reads in 1 MB blocks: records are small
  std::ifstream f;
  f.rdbuf()->pubsetbuf(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  f.open(path, std::ios::binary);
  if (!f) {
    error = path + ": no such recording";
    return false;
  }
  // the size once: a file still growing is read up to here (a live session's own recording)
  f.seekg(0, std::ios::end);
  const auto end_pos = f.tellg();
  f.seekg(0, std::ios::beg);
  const std::uint64_t size = end_pos < 0 ? 0 : static_cast<std::uint64_t>(end_pos);
  char head[12];
  if (size < 12 || !f.read(head, sizeof head) || std::memcmp(head, kRecordingMagic, sizeof kRecordingMagic) != 0) {
    error = path + ": not a planttwin recording (no PTWINREC magic)";
    return false;
  }
  const std::uint32_t version = get_u32(head + 8);
  if (version != kRecordingVersion) {
    error = path + ": recording format version " + std::to_string(version) + "; this build reads version " + std::to_string(kRecordingVersion);
    return false;
  }
  std::uint64_t pos = 12;
  bool have_header = false;
  std::string payload;  // one record at a time: memory stays that of the largest record
  Record r;
  while (pos < size) {
    const std::uint64_t left = size - pos;
    if (left < 8) {
      out.torn = "a partial record header (" + std::to_string(left) + " bytes) at offset " + std::to_string(pos);
      break;
    }
    char rh[8];
    if (!f.read(rh, sizeof rh)) {
      out.torn = "the file could not be read at offset " + std::to_string(pos);
      break;
    }
    const std::uint32_t len = get_u32(rh), crc = get_u32(rh + 4);
    if (len == 0 || len > kMaxRecordBytes) {
      out.torn = "a record with an impossible length (" + std::to_string(len) + ") at offset " + std::to_string(pos);
      break;
    }
    if (left - 8 < len) {
      out.torn = "a partial record (" + std::to_string(left - 8) + " of " + std::to_string(len) + " bytes) at offset " + std::to_string(pos);
      break;
    }
    payload.resize(len);
    if (!f.read(payload.data(), len)) {
      out.torn = "the file could not be read at offset " + std::to_string(pos);
      break;
    }
    const std::string_view p(payload);
    if (crc32(p) != crc) {
      out.torn = "a record whose CRC does not match at offset " + std::to_string(pos);
      break;
    }
    const auto kind = static_cast<RecordKind>(static_cast<unsigned char>(p[0]));
    r.kind = kind;
    bool ok = true, visit = false;
    if (!have_header) {
      ok = kind == RecordKind::header;
      if (ok) {
        const auto j = nlohmann::json::parse(p.substr(1), nullptr, false);
        ok = j.is_object();
        if (ok) {
          try {
            RecordingHeader& h = out.header;
            h.product_version = j.value("product_version", "");
            h.start_unix_us = j.at("start_unix_us").get<std::int64_t>();
            h.utc_offset_min = j.at("utc_offset_min").get<int>();
            h.with_script = j.value("with_script", false);
            h.solve_window = j.value("solve_window_us", Micros{0});
            h.input_batches = j.value("input_batches", false);
            if (j.contains("models")) {
              for (const auto& mj : j.at("models")) {
                std::string bytes;
                if (!from_base64(mj.at("base64").get<std::string>(), bytes)) throw std::runtime_error("a model's base64");
                h.models.emplace_back(mj.at("file").get<std::string>(), std::move(bytes));
              }
            }
            h.scenario_path = j.at("scenario_path").get<std::string>();
            h.scenario_sha256 = j.value("scenario_sha256", "");
            h.scenario_text = j.at("scenario_text").get<std::string>();
            h.site_path = j.value("site_path", "");
            h.site_sha256 = j.value("site_sha256", "");
            h.site_text = j.value("site_text", "");
          } catch (const std::exception&) {
            ok = false;
          }
        }
      }
      if (!ok) {
        error = path + ": the recording's header record is not valid";
        return false;
      }
      have_header = true;
    } else if (kind == RecordKind::input && len >= 18) {
      r.input.t = get_i64(p.data() + 1);
      r.input.ts_ms = get_i64(p.data() + 9);
      const size_t tl = static_cast<unsigned char>(p[17]);
      ok = len >= 18 + tl;
      if (ok) {
        r.input.topic.assign(p.substr(18, tl));
        r.input.body.assign(p.substr(18 + tl));
        visit = true;
      }
    } else if (kind == RecordKind::solve && len == 13) {
      r.solve.t = get_i64(p.data() + 1);
      r.solve.tag = static_cast<int>(get_u32(p.data() + 9));
      visit = true;
    } else if ((kind == RecordKind::end || kind == RecordKind::reached) && len == 9) {
      r.end_t = get_i64(p.data() + 1);
      out.ended = out.ended || kind == RecordKind::end;
      visit = true;
    } else {
      ok = false;
    }
    if (!ok) {
      out.torn = "an unknown or malformed record (kind " + std::to_string(static_cast<int>(kind)) + ") at offset " + std::to_string(pos);
      break;
    }
    pos += 8 + len;
    out.last_record_bytes = 8 + len;
    out.last_kind = kind;
    ++out.record_count;
    if (visit && !on_record(r)) {
      error = path + ": stopped at the record at offset " + std::to_string(pos - 8 - len);
      return false;
    }
  }
  if (!have_header) {
    error = path + ": the recording has no intact header";
    return false;
  }
  out.intact_bytes = pos;
  out.torn_bytes = size - pos;
  return true;
}

bool read_recording(const std::string& path, Recording& out, std::string& error) {
  std::vector<Record> records;
  const bool ok = scan_recording(path, out, [&](const Record& r) {
    records.push_back(r);
    return true;
  }, error);
  out.records = std::move(records);
  return ok;
}

}  // namespace planttwin::hil
