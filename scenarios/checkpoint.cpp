#include "scenarios/checkpoint.h"

#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/byte_codec.h"
#include "engine/checkpoint.h"

namespace planttwin {

namespace {

constexpr char kMagic[8] = {'P', 'T', 'C', 'K', '\r', '\n', 0x1a, '\n'};

enum RecordType : std::uint8_t { kMeta = 1, kEngine = 2, kOracle = 3, kRunner = 4, kSim = 5, kEnd = 0xff };

const char* record_name(std::uint8_t t) {
  switch (t) {
    case kMeta: return "META";
    case kEngine: return "ENGINE";
    case kOracle: return "ORACLE";
    case kRunner: return "RUNNER";
    case kSim: return "SIM";
    case kEnd: return "END";
  }
  return "unknown";
}

std::uint32_t crc_of(std::uint8_t type, std::string_view payload) {
  uLong c = crc32(0L, Z_NULL, 0);
  const Bytef t = type;
  c = crc32(c, &t, 1);
  // zlib takes uInt lengths: feed large payloads in pieces
  std::size_t off = 0;
  while (off < payload.size()) {
    const std::size_t n = std::min<std::size_t>(payload.size() - off, 1u << 30);
    c = crc32(c, reinterpret_cast<const Bytef*>(payload.data() + off), static_cast<uInt>(n));
    off += n;
  }
  return static_cast<std::uint32_t>(c);
}

void record(ByteWriter& w, std::uint8_t type, std::string_view payload) {
  w.u32(crc_of(type, payload));
  w.u64(payload.size());
  w.u8(type);
  w.raw(payload);
}

}  // namespace

std::string encode_checkpoint(const RunCheckpoint& c) {
  ByteWriter w;
  for (char ch : kMagic) w.u8(static_cast<std::uint8_t>(ch));
  w.u32(kCheckpointFormat);
  ByteWriter meta;
  meta.str(c.meta.scenario);
  meta.str(c.meta.scenario_sha256);
  meta.str(c.meta.site);
  meta.str(c.meta.site_sha256);
  meta.u64(c.meta.model_fingerprint);
  meta.u32(c.meta.engine_layout);
  meta.i64(c.meta.t);
  meta.str(c.meta.positioning);
  meta.str(c.meta.writer);
  record(w, kMeta, meta.bytes());
  record(w, kEngine, c.engine);
  if (!c.oracle.empty()) record(w, kOracle, c.oracle);
  record(w, kRunner, c.runner);
  if (!c.sim.empty()) record(w, kSim, c.sim);
  record(w, kEnd, "");
  return w.take();
}

bool decode_checkpoint(std::string_view bytes, RunCheckpoint& out, std::string& why) {
  if (bytes.size() < sizeof kMagic || bytes.substr(0, sizeof kMagic) != std::string_view(kMagic, sizeof kMagic)) {
    why = "not a planttwin checkpoint (the file does not start with PTCK)";
    return false;
  }
  ByteReader r(bytes.substr(sizeof kMagic));
  const std::uint32_t format = r.u32();
  if (!r.ok()) {
    why = "damaged checkpoint: it ends inside its header";
    return false;
  }
  if (format != kCheckpointFormat) {
    why = "checkpoint format version " + std::to_string(format) + "; this planttwin reads version " + std::to_string(kCheckpointFormat);
    return false;
  }
  RunCheckpoint c;
  bool meta = false, engine = false, runner = false, end = false;
  for (int n = 1; !end; ++n) {
    const std::size_t at = sizeof kMagic + r.position();
    if (r.at_end()) {
      why = "damaged checkpoint: truncated after record " + std::to_string(n - 1) + " (no END record)";
      return false;
    }
    const std::uint32_t crc = r.u32();
    const std::uint64_t len = r.u64();
    const std::uint8_t type = r.u8();
    const std::size_t left = bytes.size() - sizeof kMagic - r.position();
    if (!r.ok() || len > left) {
      why = "damaged checkpoint: record " + std::to_string(n) + " at byte " + std::to_string(at) + " is truncated";
      return false;
    }
    std::string_view payload = bytes.substr(sizeof kMagic + r.position(), static_cast<std::size_t>(len));
    r.skip(static_cast<std::size_t>(len));
    if (crc_of(type, payload) != crc) {
      why = "damaged checkpoint: record " + std::to_string(n) + " (" + record_name(type) + ") at byte " + std::to_string(at) +
            " fails its CRC-32 check";
      return false;
    }
    switch (type) {
      case kMeta: {
        ByteReader m(payload);
        c.meta.scenario = m.str();
        c.meta.scenario_sha256 = m.str();
        c.meta.site = m.str();
        c.meta.site_sha256 = m.str();
        c.meta.model_fingerprint = m.u64();
        c.meta.engine_layout = m.u32();
        c.meta.t = m.i64();
        c.meta.positioning = m.str();
        c.meta.writer = m.str();
        if (!m.ok()) {
          why = "damaged checkpoint: META record: " + m.error();
          return false;
        }
        meta = true;
        break;
      }
      case kEngine: c.engine = std::string(payload), engine = true; break;
      case kOracle: c.oracle = std::string(payload); break;
      case kRunner: c.runner = std::string(payload), runner = true; break;
      case kSim: c.sim = std::string(payload); break;
      case kEnd: end = true; break;
      default:
        why = "damaged checkpoint: record " + std::to_string(n) + " has an unknown type " + std::to_string(type);
        return false;
    }
    if (n == 1 && !meta) {
      why = "damaged checkpoint: the first record is not META";
      return false;
    }
  }
  if (!r.at_end()) {
    why = "damaged checkpoint: " + std::to_string(bytes.size() - sizeof kMagic - r.position()) + " bytes after the END record";
    return false;
  }
  if (!engine || !runner) {
    why = std::string("damaged checkpoint: no ") + (engine ? "RUNNER" : "ENGINE") + " record";
    return false;
  }
  out = std::move(c);
  return true;
}

bool write_checkpoint_file(const std::string& path, const RunCheckpoint& c, std::string& error) {
  namespace fs = std::filesystem;
  const fs::path p(path);
  std::string tmp_name = p.filename().string();
  tmp_name.insert(0, 1, '.');
  tmp_name.append(".tmp");
  const fs::path tmp = p.parent_path() / tmp_name;
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    const std::string bytes = encode_checkpoint(c);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    f.flush();
    if (!f) {
      error = tmp.string() + ": cannot write the checkpoint";
      return false;
    }
  }
  std::error_code ec;
  fs::rename(tmp, p, ec);
  if (ec) {
    error = path + ": cannot write the checkpoint: " + ec.message();
    return false;
  }
  return true;
}

bool read_checkpoint_file(const std::string& path, RunCheckpoint& out, std::string& why) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    why = path + ": cannot open the checkpoint";
    return false;
  }
  std::ostringstream ss;
  ss << f.rdbuf();
  if (!decode_checkpoint(ss.str(), out, why)) {
    why = path + ": " + why;
    return false;
  }
  return true;
}

bool checkpoint_matches(const CheckpointMeta& m, const Scenario& sc, std::uint64_t model_fingerprint, std::string& why) {
  if (m.scenario != sc.name) {
    why = "the checkpoint is of scenario '" + m.scenario + "', not '" + sc.name + "'";
    return false;
  }
  if (m.site != sc.site.name || m.site_sha256 != sc.site_sha256) {
    why = "the checkpoint is of site '" + m.site + "'" + (m.site == sc.site.name ? " as it was before it changed" : "") +
          ", not of this scenario's site '" + sc.site.name + "'";
    return false;
  }
  if (m.scenario_sha256 != sc.scenario_sha256) {
    why = "the scenario file '" + sc.file + "' has changed since the checkpoint was written";
    return false;
  }
  if (m.engine_layout != kEngineStateLayout) {
    why = "the checkpoint's engine state has layout version " + std::to_string(m.engine_layout) + "; this planttwin reads version " +
          std::to_string(kEngineStateLayout);
    return false;
  }
  if (m.model_fingerprint != model_fingerprint) {
    why = "the checkpoint was written for another engine set-up (people, zones or rules differ)";
    return false;
  }
  return true;
}

std::string checkpoint_file_name(const std::string& scenario, Micros t) {
  std::string name;
  for (char ch : scenario)
    name += (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.') ? ch : '_';
  char b[48];
  const long long ms = static_cast<long long>((t + 500) / 1000);  // to the millisecond
  std::snprintf(b, sizeof b, "-t%06lld.%03lld.ptck", ms / 1000, ms % 1000);
  return name + b;
}

}  // namespace planttwin
