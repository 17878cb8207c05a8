#include "hardware-in-loop/uplink/outbox.h"

#include <sqlite3.h>

#include <map>
#include <mutex>
#include <random>
#include <stdexcept>

namespace planttwin::uplink {

namespace {

// One use of a cached prepared statement: reset and unbound when done.
struct Stmt {
  sqlite3_stmt* s = nullptr;
  explicit Stmt(sqlite3_stmt* st) : s(st) {}
  ~Stmt() {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  void bind(int i, std::int64_t v) { sqlite3_bind_int64(s, i, v); }
  void bind(int i, const std::string& v) {
    sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  std::string text(int i) const {
    const unsigned char* p = sqlite3_column_text(s, i);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(s, i)))
             : std::string();
  }
};

std::string random_id() {
  std::random_device rd;
  std::string out;
  const char* hex = "0123456789abcdef";
  for (int i = 0; i < 4; ++i) {
    std::uint32_t v = rd();
    for (int k = 0; k < 8; ++k) out += hex[(v >> (4 * k)) & 15];
  }
  return out;
}

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS position_sample(
  id INTEGER PRIMARY KEY AUTOINCREMENT, t_us INTEGER NOT NULL, person TEXT NOT NULL, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batch(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, t_us INTEGER NOT NULL, records INTEGER NOT NULL,
  body TEXT NOT NULL, state INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), answered_at TEXT,
  platform_batch_id TEXT, last_error TEXT);
CREATE INDEX IF NOT EXISTS batch_state ON batch(state, seq);
CREATE TABLE IF NOT EXISTS base_record(kind TEXT NOT NULL, id TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY(kind, id));
)";

}  // namespace

void Outbox::fail(const std::string& what) const {
  throw std::runtime_error("uplink outbox " + path_ + ": " + what + ": " + (db_ ? sqlite3_errmsg(db_) : "no database"));
}

void Outbox::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "?";
    sqlite3_free(err);
    throw std::runtime_error("uplink outbox " + path_ + ": " + msg);
  }
}

sqlite3_stmt* Outbox::prepare(const char* sql) const {
  auto it = cache_.find(sql);  // by address: every caller passes a string literal
  if (it != cache_.end()) return it->second;
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) fail(std::string("prepare ") + sql);
  cache_.emplace(sql, s);
  return s;
}

void Outbox::set_autocheckpoint(bool on) {
  exec(on ? "PRAGMA wal_autocheckpoint=1000" : "PRAGMA wal_autocheckpoint=0");
}

void Outbox::checkpoint() {
  // passive: never waits for the writer, so the loop thread's commits are not held up
  if (sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr) != SQLITE_OK)
    fail("checkpoint");
}

Outbox::Outbox(const std::string& path) : path_(path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("uplink outbox " + path + ": cannot open: " + msg);
  }
  try {
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
    exec("BEGIN IMMEDIATE");
    exec(kSchema);
    {
      Stmt s(prepare("SELECT value FROM meta WHERE key='format'"));
      if (sqlite3_step(s.s) == SQLITE_ROW && s.text(0) != "1")
        throw std::runtime_error("uplink outbox " + path + ": format " + s.text(0) + ", this build reads format 1");
    }
    exec("INSERT OR IGNORE INTO meta(key, value) VALUES('format', '1')");
    {
      Stmt s(prepare("INSERT OR IGNORE INTO meta(key, value) VALUES('outbox_id', ?)"));
      s.bind(1, random_id());
      if (sqlite3_step(s.s) != SQLITE_DONE) fail("write outbox_id");
    }
    {
      Stmt s(prepare("SELECT value FROM meta WHERE key='outbox_id'"));
      if (sqlite3_step(s.s) != SQLITE_ROW) fail("read outbox_id");
      id_ = s.text(0);
    }
    exec("COMMIT");
  } catch (...) {
    close();
    throw;
  }
}

void Outbox::close() {
  for (auto& [sql, st] : cache_) sqlite3_finalize(st);
  cache_.clear();
  sqlite3_close(db_);
  db_ = nullptr;
}

Outbox::~Outbox() { close(); }

std::int64_t Outbox::add_samples(const std::vector<Sample>& samples) {
  if (samples.empty()) return 0;
  exec("BEGIN IMMEDIATE");
  try {
    for (const Sample& x : samples) {
      Stmt s(prepare("INSERT INTO position_sample(t_us, person, record) VALUES(?, ?, ?)"));
      s.bind(1, x.t);
      s.bind(2, x.person);
      s.bind(3, x.record);
      if (sqlite3_step(s.s) != SQLITE_DONE) fail("add position sample");
    }
    std::int64_t last = sqlite3_last_insert_rowid(db_);
    exec("COMMIT");
    return last;
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

std::vector<std::pair<std::string, std::string>> Outbox::latest_samples(std::int64_t& max_row) const {
  Stmt s(prepare("SELECT id, person, record FROM position_sample ORDER BY id"));
  std::map<std::string, std::string> latest;
  max_row = 0;
  int rc;
  while ((rc = sqlite3_step(s.s)) == SQLITE_ROW) {
    max_row = sqlite3_column_int64(s.s, 0);
    latest[s.text(1)] = s.text(2);
  }
  if (rc != SQLITE_DONE) fail("read position samples");
  return {latest.begin(), latest.end()};
}

std::int64_t Outbox::count_samples() const {
  Stmt s(prepare("SELECT COUNT(*) FROM position_sample"));
  if (sqlite3_step(s.s) != SQLITE_ROW) fail("count position samples");
  return sqlite3_column_int64(s.s, 0);
}

std::int64_t Outbox::add_batch(const std::string& kind, Micros t, int records,
                               const std::function<std::string(std::int64_t)>& make_body,
                               std::int64_t delete_samples_upto, const std::vector<BaseRecord>& base) {
  return add_batches(kind, t, {records}, [&](std::size_t, std::int64_t seq) { return make_body(seq); }, delete_samples_upto, base)
      .front();
}

std::vector<std::int64_t> Outbox::add_batches(const std::string& kind, Micros t, const std::vector<int>& records,
                                              const std::function<std::string(std::size_t, std::int64_t)>& make_body,
                                              std::int64_t delete_samples_upto, const std::vector<BaseRecord>& base) {
  exec("BEGIN IMMEDIATE");
  try {
    std::vector<std::int64_t> seqs;
    for (std::size_t part = 0; part < records.size(); ++part) {
      std::int64_t seq = 0;
      {
        Stmt s(prepare("INSERT INTO batch(kind, t_us, records, body) VALUES(?, ?, ?, '')"));
        s.bind(1, kind);
        s.bind(2, t);
        s.bind(3, records[part]);
        if (sqlite3_step(s.s) != SQLITE_DONE) fail("add batch");
        seq = sqlite3_last_insert_rowid(db_);
      }
      {
        Stmt s(prepare("UPDATE batch SET body = ? WHERE seq = ?"));
        s.bind(1, make_body(part, seq));
        s.bind(2, seq);
        if (sqlite3_step(s.s) != SQLITE_DONE) fail("write batch body");
      }
      seqs.push_back(seq);
    }
    if (delete_samples_upto > 0) {
      Stmt s(prepare("DELETE FROM position_sample WHERE id <= ?"));
      s.bind(1, delete_samples_upto);
      if (sqlite3_step(s.s) != SQLITE_DONE) fail("delete batched samples");
    }
    for (const BaseRecord& b : base) {
      if (b.record.empty()) {
        Stmt s(prepare("DELETE FROM base_record WHERE kind = ? AND id = ?"));
        s.bind(1, b.kind);
        s.bind(2, b.id);
        if (sqlite3_step(s.s) != SQLITE_DONE) fail("forget base record");
      } else {
        Stmt s(prepare("INSERT INTO base_record(kind, id, record) VALUES(?, ?, ?) ON CONFLICT(kind, id) DO UPDATE SET record = excluded.record"));
        s.bind(1, b.kind);
        s.bind(2, b.id);
        s.bind(3, b.record);
        if (sqlite3_step(s.s) != SQLITE_DONE) fail("remember base record");
      }
    }
    exec("COMMIT");
    return seqs;
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

std::map<std::string, std::string> Outbox::base_records(const std::string& kind) const {
  std::map<std::string, std::string> out;
  Stmt s(prepare("SELECT id, record FROM base_record WHERE kind = ?"));
  s.bind(1, kind);
  int rc;
  while ((rc = sqlite3_step(s.s)) == SQLITE_ROW) out[s.text(0)] = s.text(1);
  if (rc != SQLITE_DONE) fail("read base records");
  return out;
}

std::optional<PendingBatch> Outbox::next_pending() const {
  Stmt s(prepare("SELECT seq, kind, body, attempts FROM batch WHERE state = 0 ORDER BY seq LIMIT 1"));
  int rc = sqlite3_step(s.s);
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) fail("read next batch");
  PendingBatch b;
  b.seq = sqlite3_column_int64(s.s, 0);
  b.kind = s.text(1);
  b.body = s.text(2);
  b.attempts = sqlite3_column_int64(s.s, 3);
  return b;
}

std::int64_t Outbox::count_pending() const {
  Stmt s(prepare("SELECT COUNT(*) FROM batch WHERE state = 0"));
  if (sqlite3_step(s.s) != SQLITE_ROW) fail("count batches");
  return sqlite3_column_int64(s.s, 0);
}

void Outbox::mark_sent(std::int64_t seq, const std::string& platform_batch_id) {
  Stmt s(prepare("UPDATE batch SET state = 1, attempts = attempts + 1, platform_batch_id = ?, last_error = NULL, "
                 "answered_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE seq = ?"));
  s.bind(1, platform_batch_id);
  s.bind(2, seq);
  if (sqlite3_step(s.s) != SQLITE_DONE) fail("mark batch sent");
}

void Outbox::mark_failed(std::int64_t seq, const std::string& error) {
  Stmt s(prepare("UPDATE batch SET attempts = attempts + 1, last_error = ? WHERE seq = ?"));
  s.bind(1, error);
  s.bind(2, seq);
  if (sqlite3_step(s.s) != SQLITE_DONE) fail("mark batch failed");
}

void Outbox::mark_rejected(std::int64_t seq, const std::string& error) {
  Stmt s(prepare("UPDATE batch SET state = 2, attempts = attempts + 1, last_error = ?, "
                 "answered_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE seq = ?"));
  s.bind(1, error);
  s.bind(2, seq);
  if (sqlite3_step(s.s) != SQLITE_DONE) fail("mark batch rejected");
}

void Outbox::prune_sent(int keep) {
  Stmt s(prepare("DELETE FROM batch WHERE state = 1 AND seq NOT IN "
                 "(SELECT seq FROM batch WHERE state = 1 ORDER BY seq DESC LIMIT ?)"));
  s.bind(1, static_cast<std::int64_t>(keep < 0 ? 0 : keep));
  if (sqlite3_step(s.s) != SQLITE_DONE) fail("prune sent batches");
}

}  // namespace planttwin::uplink
