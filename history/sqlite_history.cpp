#include "history/sqlite_history.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <cstdio>
#include <functional>
#include <set>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "history/track_codec.h"
#include "engine/time.h"

namespace planttwin {

namespace {

using history::TrackPoint;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS person(code INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL DEFAULT '',
                                  category TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS floor(code INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS track(person INTEGER NOT NULL, bucket_start INTEGER NOT NULL, n INTEGER NOT NULL,
                                 t_first INTEGER NOT NULL, t_last INTEGER NOT NULL, data BLOB NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS track_by_person ON track(person, bucket_start);
CREATE TABLE IF NOT EXISTS track_open(person INTEGER NOT NULL, bucket_start INTEGER NOT NULL, n INTEGER NOT NULL,
                                      t_first INTEGER NOT NULL, t_last INTEGER NOT NULL, data BLOB NOT NULL,
                                      PRIMARY KEY(person, bucket_start));
CREATE TABLE IF NOT EXISTS track_log(id INTEGER PRIMARY KEY, t_first INTEGER NOT NULL, t_last INTEGER NOT NULL,
                                     n INTEGER NOT NULL, data BLOB NOT NULL);
CREATE VIEW IF NOT EXISTS track_all AS SELECT * FROM track UNION ALL SELECT * FROM track_open;
CREATE TABLE IF NOT EXISTS zone_entry(t_ms INTEGER NOT NULL, zone TEXT NOT NULL, category TEXT NOT NULL, count INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS zone_entry_by_time ON zone_entry(t_ms);
CREATE TABLE IF NOT EXISTS alarm(run TEXT NOT NULL, id TEXT NOT NULL, type TEXT, level TEXT, code TEXT, zone TEXT, permit TEXT,
                                 floor TEXT, who TEXT, x_cm INTEGER, y_cm INTEGER, status TEXT, raised_ms INTEGER,
                                 acknowledged_ms INTEGER, handled_ms INTEGER, closed_ms INTEGER, last_ms INTEGER,
                                 PRIMARY KEY(run, id));
CREATE INDEX IF NOT EXISTS alarm_by_time ON alarm(raised_ms);
CREATE TABLE IF NOT EXISTS alarm_event(run TEXT NOT NULL, alarm TEXT NOT NULL, seq INTEGER NOT NULL, t_ms INTEGER NOT NULL,
                                       kind TEXT, level TEXT, by TEXT, note TEXT, PRIMARY KEY(run, alarm, seq));
CREATE TABLE IF NOT EXISTS permit(run TEXT NOT NULL, id TEXT NOT NULL, type TEXT, grade TEXT, status TEXT,
                                  first_ms INTEGER, last_ms INTEGER, PRIMARY KEY(run, id));
CREATE TABLE IF NOT EXISTS permit_event(run TEXT NOT NULL, permit TEXT NOT NULL, seq INTEGER NOT NULL, t_ms INTEGER NOT NULL,
                                        event TEXT, PRIMARY KEY(run, permit, seq));
)sql";

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

std::string local_day(std::int64_t t_ms, int offset_min) {
  const std::int64_t days = floor_div(floor_div(t_ms, 1000) + offset_min * 60LL, 86400);
  int y = 0, m = 0, d = 0;
  civil_from_days(days, y, m, d);
  char b[16];
  std::snprintf(b, sizeof b, "%04d-%02d-%02d", y, m, d);
  return b;
}

class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(Stmt&& o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  sqlite3_stmt* get() const { return s_; }
  Stmt& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& blob(int i, const std::string& v) {
    sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& null(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  int step() { return sqlite3_step(s_); }
  void reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  std::int64_t i64(int c) const { return sqlite3_column_int64(s_, c); }
  std::string text(int c) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, c));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_, c))) : std::string();
  }
  bool is_null(int c) const { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
  std::string_view blob_view(int c) const {
    const void* p = sqlite3_column_blob(s_, c);
    return p ? std::string_view(static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(s_, c))) : std::string_view();
  }

 private:
  sqlite3_stmt* s_ = nullptr;
};

// A person's bucket in memory: every point of it, so sealing needs nothing from the file. The first
// `flushed` points are in the file already, in track_log rows from `first_log_id` on (0: none) or
// in a track_open row an older version wrote (`legacy_open`).
struct Bucket {
  int person = 0;
  std::int64_t start = 0;
  std::vector<TrackPoint> points;
  std::size_t flushed = 0;
  std::int64_t first_log_id = 0;
  bool legacy_open = false;
  // the bucket has a sealed `track` row already (sealed when its person fell silent, then a later
  // fix of theirs landed in it): new points are merged into that row at each flush
  bool merge_sealed = false;
};

struct PersonState {
  int code = 0;
  bool has_open = false;
  bool listed = false;  // in Impl::dirty_people
  Bucket open;
  std::int64_t last_t = INT64_MIN;
  std::int64_t sealed_start = INT64_MIN;  // the newest bucket of this person with a `track` row
  // the person's newest unsealed bucket found in the file when it was opened, until a fix
  // continues it (same bucket) or moves on (it is sealed)
  bool has_disk_open = false;
  Bucket disk_open;
};

// points of one person's bucket on their way to the file
struct MergeRows {
  int person = 0;
  std::int64_t start = 0;
  std::vector<TrackPoint> points;
};

}  // namespace

// Two locks (docs/history.md "Threads"): `mu` guards what the callers' threads touch (people and
// their buckets, the queues of what is not yet written, counters); `db_mu` guards the SQLite
// connection and what only the flush touches. fix() takes only `mu`, except once per person or
// floor new to the session; a flush takes `mu` only to move what is pending out of memory, then
// encodes and writes under `db_mu` alone, so SQLite, the disk and sealing buckets never hold up
// an input. Order: db_mu before mu.
struct SqliteHistory::Impl {
  sqlite3* db = nullptr;
  HistoryOptions opt;
  std::mutex db_mu;
  mutable std::mutex mu;
  // --- under mu
  std::unordered_map<std::string, PersonState> people;
  std::unordered_map<std::string, int> floors;
  std::vector<PersonState*> dirty_people;  // with points not yet in the file (map nodes are stable)
  std::vector<Bucket> to_seal;             // buckets their person left, waiting for the next flush
  std::vector<HistoryPerson> q_people;
  std::vector<HistoryZoneEntry> q_zones;
  std::vector<HistoryAlarm> q_alarms;
  std::vector<HistoryPermit> q_permits;
  std::int64_t newest_ms = INT64_MIN;
  HistoryCounters counters;
  Clock::time_point last_flush;  // on opt.clock, set by open()
  std::uint32_t calls = 0;
  bool stopping = false;
  std::int64_t next_log_id = 1;  // read under mu by the flush's batch, advanced under both
  // --- under db_mu
  std::vector<Bucket> to_compact;  // left buckets whose points are in track_log: sealed after the commit
  std::int64_t log_floor = INT64_MAX;  // the smallest track_log id in the file
  std::int64_t retention_done_ms = INT64_MIN;
  bool write_failed = false;  // in the transaction under way
  std::string write_error;
  // what a transaction that failed (disk full, the file locked too long) held: written by the next
  std::vector<MergeRows> retry_fresh, retry_merges;
  std::vector<Bucket> retry_seals;
  std::vector<HistoryPerson> retry_people;
  std::vector<HistoryZoneEntry> retry_zones;
  std::vector<HistoryAlarm> retry_alarms;
  std::vector<HistoryPermit> retry_permits;
  Stmt put_track, put_log, drop_open, get_track, has_track, range_track, range_open, range_log;
  // ---
  std::thread flusher;
  std::condition_variable_any cv;  // waited on and notified through opt.clock

  static constexpr std::size_t kCompactSlice = 64;  // buckets sealed per transaction

  ~Impl() {
    if (flusher.joinable()) {
      {
        std::lock_guard<std::mutex> lk(mu);
        stopping = true;
      }
      opt.clock->notify_all(cv);
      flusher.join();
    }
    if (db) {
      if (put_track.get()) {  // (not when open() failed)
        std::lock_guard<std::mutex> d(db_mu);
        flush_all();
      }
      put_track = Stmt(), put_log = Stmt(), drop_open = Stmt(), get_track = Stmt(), has_track = Stmt();
      range_track = Stmt(), range_open = Stmt(), range_log = Stmt();
      sqlite3_close(db);
    }
  }

  bool exec(const char* sql, std::string* error = nullptr) {
    char* msg = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
      if (error) *error = msg ? msg : "sqlite error";
      sqlite3_free(msg);
      return false;
    }
    return true;
  }

  // db_mu held: starts a write transaction, taking the file's write lock at once (waiting up to the
  // busy timeout); when that fails the writes that follow are skipped and finish() rolls back
  void begin() {
    write_failed = false;
    std::string err;
    if (!exec("BEGIN IMMEDIATE", &err)) write_failed = true, write_error = err;
  }

  // db_mu held: a write's result; any failure fails the transaction under way
  void wrote(int rc) {
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) return;
    if (!write_failed) write_error = sqlite3_errmsg(db);
    write_failed = true;
  }

  // db_mu held: ends the transaction; false (rolled back, counted) when anything in it failed
  bool finish() {
    std::string err;
    if (!write_failed && exec("COMMIT", &err)) return true;
    if (!write_failed) write_error = err;
    exec("ROLLBACK");
    write_failed = false;
    std::lock_guard<std::mutex> lk(mu);
    ++counters.write_errors;
    counters.last_write_error = write_error;
    return false;
  }

  template <typename T>
  static void prepend(std::vector<T>& to, std::vector<T>& earlier) {
    if (earlier.empty()) return;
    earlier.insert(earlier.end(), std::make_move_iterator(to.begin()), std::make_move_iterator(to.end()));
    to.swap(earlier);
    earlier.clear();
  }

  // db_mu held
  int person_code(const std::string& id) {
    Stmt ins(db, "INSERT OR IGNORE INTO person(id) VALUES(?)");
    ins.bind(1, id).step();
    Stmt q(db, "SELECT code FROM person WHERE id=?");
    q.bind(1, id);
    return q.step() == SQLITE_ROW ? static_cast<int>(q.i64(0)) : 0;
  }

  // db_mu held
  int floor_code_db(const std::string& id) {
    Stmt ins(db, "INSERT OR IGNORE INTO floor(id) VALUES(?)");
    ins.bind(1, id).step();
    Stmt q(db, "SELECT code FROM floor WHERE id=?");
    q.bind(1, id);
    return q.step() == SQLITE_ROW ? static_cast<int>(q.i64(0)) : 0;
  }

  // db_mu held
  std::string floor_name(int code) {
    if (code == 0) return "";
    Stmt q(db, "SELECT id FROM floor WHERE code=?");
    q.bind(1, code);
    return q.step() == SQLITE_ROW ? q.text(0) : "";
  }

  // db_mu held: whether (person, bucket) has a sealed row
  bool sealed(int person, std::int64_t start) {
    has_track.reset();
    has_track.bind(1, person).bind(2, start);
    const bool yes = has_track.step() == SQLITE_ROW;
    has_track.reset();
    return yes;
  }

  // db_mu held. A person the session meets for the first time and open() did not load (nothing of
  // theirs unsealed in the file): their code, and the time and bucket of their newest sealed fix.
  PersonState load_person(const std::string& id) {
    PersonState st;
    st.code = person_code(id);
    Stmt q(db, "SELECT bucket_start, t_last FROM track WHERE person=? ORDER BY bucket_start DESC LIMIT 1");
    q.bind(1, st.code);
    if (q.step() == SQLITE_ROW) st.sealed_start = q.i64(0), st.last_t = q.i64(1);
    return st;
  }

  // mu held: the person's open bucket is left; what it holds goes to the next flush
  void leave_open(PersonState& st) {
    if (!st.has_open) return;
    st.sealed_start = std::max(st.sealed_start, st.open.start);
    const bool pending = st.open.merge_sealed ? !st.open.points.empty() : (!st.open.points.empty() || st.open.legacy_open);
    if (pending) to_seal.push_back(std::move(st.open));
    st.open = Bucket{};
    st.has_open = false;
  }

  // mu held. kUnknown when the person or the floor is new to the session (the caller looks them up
  // in the file and comes back).
  enum class FixResult { kDone, kUnknown };
  FixResult fix_locked(const HistoryFix& f) {
    auto it = people.find(f.person);
    if (it == people.end()) return FixResult::kUnknown;
    int floor = 0;
    if (!f.floor.empty()) {
      auto fl = floors.find(f.floor);
      if (fl == floors.end()) return FixResult::kUnknown;
      floor = fl->second;
    }
    PersonState& st = it->second;
    if (f.t_ms < st.last_t) {
      ++counters.out_of_order;
      return FixResult::kDone;
    }
    const std::int64_t b = floor_div(f.t_ms, opt.bucket_ms) * opt.bucket_ms;
    if (!st.has_open || b != st.open.start) {
      leave_open(st);
      if (st.has_disk_open && b == st.disk_open.start) {
        st.open = std::move(st.disk_open);  // continues what the file holds of it
      } else {
        if (st.has_disk_open) {  // a later bucket: the one in the file is left
          st.sealed_start = std::max(st.sealed_start, st.disk_open.start);
          to_seal.push_back(std::move(st.disk_open));
        }
        st.open = Bucket{};
        st.open.person = st.code;
        st.open.start = b;
        st.open.merge_sealed = b <= st.sealed_start;
      }
      st.has_disk_open = false;
      st.disk_open = Bucket{};
      st.has_open = true;
    }
    st.open.points.push_back({f.t_ms, f.x_cm, f.y_cm, f.z_cm, floor});
    if (!st.listed) {
      st.listed = true;
      dirty_people.push_back(&st);
    }
    st.last_t = f.t_ms;
    ++counters.fixes;
    newest_ms = std::max(newest_ms, f.t_ms);
    return FixResult::kDone;
  }

  // mu held: true when the ingest path should flush now (only without the background thread)
  bool flush_due_locked() {
    if (opt.background_flush) return false;
    if ((++calls & 1023) != 0) return false;
    return opt.clock->now() - last_flush >= std::chrono::milliseconds(opt.flush_every_ms);
  }

  // db_mu held: a sealed row (the smaller xy mode, compressed)
  void write_sealed(int person, std::int64_t start, const std::vector<TrackPoint>& pts) {
    const std::string blob = history::encode_track(start, pts, opt.compress, true);
    put_track.reset();
    put_track.bind(1, person).bind(2, start).bind(3, static_cast<std::int64_t>(pts.size()));
    put_track.bind(4, pts.front().t_ms).bind(5, pts.back().t_ms).blob(6, blob);
    wrote(put_track.step());
    put_track.reset();
  }

  // db_mu held: a bucket's sealed row, and what an older version kept of it in track_open gone
  void seal(const Bucket& b) {
    if (!b.points.empty()) write_sealed(b.person, b.start, b.points);
    if (b.legacy_open) {
      drop_open.reset();
      wrote(drop_open.bind(1, b.person).bind(2, b.start).step());
      drop_open.reset();
    }
  }

  // db_mu held, mu not. Writes what memory holds and the file does not, in one transaction: the
  // new points of every bucket as one track_log row, buckets left that were never in the file
  // sealed at once, the people, zone entries, alarms and permits handed over, retention. After it a
  // kill -9 keeps every fix counted so far (counters.fixes_durable). Buckets left whose points are
  // in track_log go to to_compact, sealed by compact() after this commit.
  bool commit_pending() {
    std::vector<Bucket> seals;
    std::vector<MergeRows> merges, fresh;
    std::vector<HistoryPerson> persons;
    std::vector<HistoryZoneEntry> zones;
    std::vector<HistoryAlarm> alarms;
    std::vector<HistoryPermit> permits;
    std::string row;
    std::int64_t row_first = INT64_MAX, row_last = INT64_MIN, row_n = 0, log_id = 0, keep_from = INT64_MAX;
    std::uint64_t fixes = 0;
    std::int64_t newest = INT64_MIN;
    {
      std::lock_guard<std::mutex> lk(mu);
      last_flush = opt.clock->now();
      log_id = next_log_id;
      // a person silent for a whole bucket: their bucket is sealed (in a live session nobody's
      // fixes go back that far; a later fix in it is merged into the sealed row)
      if (newest_ms != INT64_MIN)
        for (auto& [id, st] : people) {
          if (st.has_open && st.open.start + 2 * opt.bucket_ms <= newest_ms) leave_open(st);
          if (st.has_disk_open && st.disk_open.start + 2 * opt.bucket_ms <= newest_ms) {
            st.sealed_start = std::max(st.sealed_start, st.disk_open.start);
            to_seal.push_back(std::move(st.disk_open));
            st.has_disk_open = false;
            st.disk_open = Bucket{};
          }
        }
      auto log_new_points = [&](Bucket& b) {  // copied here, encoded after the lock
        if (b.points.size() <= b.flushed) return;
        fresh.push_back({b.person, b.start, std::vector<TrackPoint>(b.points.begin() + static_cast<std::ptrdiff_t>(b.flushed), b.points.end())});
        b.flushed = b.points.size();
        if (b.first_log_id == 0) b.first_log_id = log_id;
      };
      for (PersonState* st : dirty_people) {
        st->listed = false;
        if (!st->has_open) continue;  // (left since it was listed)
        Bucket& b = st->open;
        if (b.merge_sealed) {
          if (!b.points.empty()) merges.push_back({b.person, b.start, std::move(b.points)});
          b.points = {};
        } else {
          log_new_points(b);
        }
      }
      dirty_people.clear();
      for (Bucket& b : to_seal) {
        if (b.merge_sealed) {
          if (!b.points.empty()) merges.push_back({b.person, b.start, std::move(b.points)});
        } else if (b.first_log_id == 0 && !b.legacy_open) {
          seals.push_back(std::move(b));  // never in the file: sealed in this transaction
        } else {
          log_new_points(b);
          to_compact.push_back(std::move(b));
        }
      }
      to_seal.clear();
      // track_log rows before the first one an unsealed bucket needs can go
      for (const auto& [id, st] : people) {
        if (st.has_open && st.open.first_log_id) keep_from = std::min(keep_from, st.open.first_log_id);
        if (st.has_disk_open && st.disk_open.first_log_id) keep_from = std::min(keep_from, st.disk_open.first_log_id);
      }
      for (const Bucket& b : to_compact)
        if (b.first_log_id) keep_from = std::min(keep_from, b.first_log_id);
      if (!fresh.empty() || !retry_fresh.empty()) ++next_log_id;  // (retry_fresh: db_mu is held)
      if (keep_from == INT64_MAX) keep_from = next_log_id;
      persons.swap(q_people);
      zones.swap(q_zones);
      alarms.swap(q_alarms);
      permits.swap(q_permits);
      fixes = counters.fixes;
      newest = newest_ms;
    }
    // what a failed transaction held goes first (its groups before the same buckets' newer ones)
    prepend(fresh, retry_fresh);
    prepend(merges, retry_merges);
    prepend(seals, retry_seals);
    prepend(persons, retry_people);
    prepend(zones, retry_zones);
    prepend(alarms, retry_alarms);
    prepend(permits, retry_permits);
    for (const MergeRows& g : fresh) {
      history::append_log_group(row, g.person, g.start, g.points);
      row_first = std::min(row_first, g.points.front().t_ms);
      row_last = std::max(row_last, g.points.back().t_ms);
      row_n += static_cast<std::int64_t>(g.points.size());
    }
    if (!row.empty()) row = history::pack_log_row(row, opt.compress);
    const bool retention_due = retention_is_due(newest);
    const bool drop_log = keep_from > log_floor;
    if (row.empty() && seals.empty() && merges.empty() && persons.empty() && zones.empty() && alarms.empty() && permits.empty() &&
        !retention_due && !drop_log) {
      std::lock_guard<std::mutex> lk(mu);
      counters.fixes_durable = fixes;  // nothing pending: all in the file
      return true;
    }
    begin();
    if (!write_failed) {  // (the file could not be locked: nothing is tried)
      for (const HistoryPerson& p : persons) write_person(p);
      if (!row.empty()) {
        put_log.reset();
        put_log.bind(1, log_id).bind(2, row_first).bind(3, row_last).bind(4, row_n).blob(5, row);
        wrote(put_log.step());
        put_log.reset();
      }
      for (const Bucket& b : seals) seal(b);
      for (MergeRows& m : merges) {
        std::vector<TrackPoint> pts;
        get_track.reset();
        get_track.bind(1, m.person).bind(2, m.start);
        if (get_track.step() == SQLITE_ROW) history::decode_track(m.start, get_track.blob_view(0), pts);
        get_track.reset();
        pts.insert(pts.end(), m.points.begin(), m.points.end());
        write_sealed(m.person, m.start, pts);
      }
      for (const HistoryZoneEntry& e : zones) write_zone_entry(e);
      for (const HistoryAlarm& a : alarms) write_alarm(a);
      for (const HistoryPermit& p : permits) write_permit(p);
      if (retention_due) retention(newest);
      if (keep_from > log_floor) {
        Stmt del(db, "DELETE FROM track_log WHERE id<?");
        wrote(del.bind(1, keep_from).step());
      }
    }
    if (!finish()) {  // nothing of it is in the file: all of it again next time (counted)
      retry_fresh = std::move(fresh), retry_merges = std::move(merges), retry_seals = std::move(seals);
      retry_people = std::move(persons), retry_zones = std::move(zones), retry_alarms = std::move(alarms);
      retry_permits = std::move(permits);
      retention_done_ms = INT64_MIN;
      return false;
    }
    if (!row.empty()) log_floor = std::min(log_floor, log_id);
    if (keep_from > log_floor) log_floor = keep_from;
    std::lock_guard<std::mutex> lk(mu);
    ++counters.flushes;
    counters.buckets_written += seals.size() + merges.size();
    counters.fixes_durable = fixes;  // committed: survives a kill -9 from here on
    return true;
  }

  // db_mu held. Seals up to `max` buckets of to_compact from memory (one transaction); false when
  // there was nothing to seal or the transaction failed. Their track_log rows go at the next commit.
  bool compact(std::size_t max) {
    if (to_compact.empty()) return false;
    const std::size_t n = std::min(max, to_compact.size());
    begin();
    for (std::size_t i = 0; i < n && !write_failed; ++i) seal(to_compact[i]);
    if (!finish()) return false;  // kept in memory (and their log rows in the file): tried again
    to_compact.erase(to_compact.begin(), to_compact.begin() + static_cast<std::ptrdiff_t>(n));
    std::lock_guard<std::mutex> lk(mu);
    counters.buckets_written += n;
    return true;
  }

  // db_mu held: commit, seal everything left, and drop the log rows that freed
  void flush_all() {
    if (!commit_pending() || to_compact.empty()) return;
    while (!to_compact.empty())
      if (!compact(kCompactSlice)) return;
    commit_pending();
  }

  void write_person(const HistoryPerson& p) {
    Stmt s(db, "INSERT INTO person(id, name, category) VALUES(?,?,?) ON CONFLICT(id) DO UPDATE SET name=excluded.name, category=excluded.category");
    wrote(s.bind(1, p.id).bind(2, p.name).bind(3, p.category).step());
  }

  void write_zone_entry(const HistoryZoneEntry& e) {
    Stmt s(db, "INSERT INTO zone_entry(t_ms, zone, category, count) VALUES(?,?,?,?)");
    wrote(s.bind(1, e.t_ms).bind(2, e.zone).bind(3, e.category).bind(4, e.count).step());
  }

  void write_alarm(const HistoryAlarm& a) {
    std::string who;
    for (const std::string& w : a.who) who += (who.empty() ? "" : ",") + w;
    std::int64_t raised = 0, last = 0;
    std::optional<std::int64_t> ack, handled, closed;
    for (const HistoryAlarmEvent& e : a.events) {
      if (e.kind == "raised") raised = e.t_ms;
      if (e.kind == "acknowledged" && !ack) ack = e.t_ms;
      if (e.kind == "handled" && !handled) handled = e.t_ms;
      if (e.kind == "closed" && !closed) closed = e.t_ms;
      last = std::max(last, e.t_ms);
    }
    Stmt s(db, "INSERT OR REPLACE INTO alarm(run, id, type, level, code, zone, permit, floor, who, x_cm, y_cm, status, raised_ms, "
               "acknowledged_ms, handled_ms, closed_ms, last_ms) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    s.bind(1, a.run).bind(2, a.id).bind(3, a.type).bind(4, a.level).bind(5, a.code).bind(6, a.zone).bind(7, a.permit).bind(8, a.floor);
    s.bind(9, who).bind(10, a.x_cm).bind(11, a.y_cm).bind(12, a.status).bind(13, raised);
    ack ? s.bind(14, *ack) : s.null(14);
    handled ? s.bind(15, *handled) : s.null(15);
    closed ? s.bind(16, *closed) : s.null(16);
    wrote(s.bind(17, last).step());
    Stmt del(db, "DELETE FROM alarm_event WHERE run=? AND alarm=?");
    wrote(del.bind(1, a.run).bind(2, a.id).step());
    Stmt ins(db, "INSERT INTO alarm_event(run, alarm, seq, t_ms, kind, level, by, note) VALUES(?,?,?,?,?,?,?,?)");
    for (size_t i = 0; i < a.events.size(); ++i) {
      const HistoryAlarmEvent& e = a.events[i];
      ins.reset();
      ins.bind(1, a.run).bind(2, a.id).bind(3, static_cast<std::int64_t>(i)).bind(4, e.t_ms).bind(5, e.kind).bind(6, e.level);
      wrote(ins.bind(7, e.by).bind(8, e.note).step());
    }
  }

  void write_permit(const HistoryPermit& p) {
    std::int64_t first = INT64_MAX, last = INT64_MIN;
    for (const auto& [t, e] : p.events) first = std::min(first, t), last = std::max(last, t);
    if (p.events.empty()) first = last = 0;
    Stmt s(db, "INSERT OR REPLACE INTO permit(run, id, type, grade, status, first_ms, last_ms) VALUES(?,?,?,?,?,?,?)");
    wrote(s.bind(1, p.run).bind(2, p.id).bind(3, p.type).bind(4, p.grade).bind(5, p.status).bind(6, first).bind(7, last).step());
    Stmt del(db, "DELETE FROM permit_event WHERE run=? AND permit=?");
    wrote(del.bind(1, p.run).bind(2, p.id).step());
    Stmt ins(db, "INSERT INTO permit_event(run, permit, seq, t_ms, event) VALUES(?,?,?,?,?)");
    for (size_t i = 0; i < p.events.size(); ++i) {
      ins.reset();
      wrote(ins.bind(1, p.run).bind(2, p.id).bind(3, static_cast<std::int64_t>(i)).bind(4, p.events[i].first).bind(5, p.events[i].second).step());
    }
  }

  // db_mu held: once per bucket of progress is enough; old buckets only ever leave
  bool retention_is_due(std::int64_t newest) const {
    if (opt.retention_ms <= 0 || newest == INT64_MIN) return false;
    const std::int64_t cutoff = newest - opt.retention_ms;
    return retention_done_ms == INT64_MIN || cutoff >= retention_done_ms + opt.bucket_ms;
  }

  // db_mu held, inside a transaction
  void retention(std::int64_t newest) {
    const std::int64_t cutoff = newest - opt.retention_ms;
    retention_done_ms = cutoff;
    const std::int64_t first_kept = cutoff - opt.bucket_ms + 1;  // whole buckets ending before cutoff go
    std::uint64_t deleted = 0;
    Stmt codes(db, "SELECT code FROM person");
    Stmt del(db, "DELETE FROM track WHERE person=? AND bucket_start<?");
    Stmt del_open(db, "DELETE FROM track_open WHERE person=? AND bucket_start<?");
    while (codes.step() == SQLITE_ROW)
      for (Stmt* d : {&del, &del_open}) {
        d->reset();
        d->bind(1, codes.i64(0)).bind(2, first_kept);
        d->step();
        deleted += static_cast<std::uint64_t>(sqlite3_changes(db));
      }
    to_compact.erase(std::remove_if(to_compact.begin(), to_compact.end(), [&](const Bucket& b) { return b.start < first_kept; }),
                     to_compact.end());
    {
      // a person's open bucket that retention removed must not come back at the next flush
      std::lock_guard<std::mutex> lk(mu);
      counters.buckets_deleted += deleted;
      for (auto& [id, st] : people) {
        if (st.has_open && st.open.start < first_kept) st.has_open = false, st.open = Bucket{};
        if (st.has_disk_open && st.disk_open.start < first_kept) st.has_disk_open = false, st.disk_open = Bucket{};
      }
      to_seal.erase(std::remove_if(to_seal.begin(), to_seal.end(), [&](const Bucket& b) { return b.start < first_kept; }),
                    to_seal.end());
    }
    Stmt z(db, "DELETE FROM zone_entry WHERE t_ms<?");
    z.bind(1, cutoff).step();
    Stmt ae(db, "DELETE FROM alarm_event WHERE (run, alarm) IN (SELECT run, id FROM alarm WHERE last_ms<?)");
    ae.bind(1, cutoff).step();
    Stmt a(db, "DELETE FROM alarm WHERE last_ms<?");
    a.bind(1, cutoff).step();
    Stmt pe(db, "DELETE FROM permit_event WHERE (run, permit) IN (SELECT run, id FROM permit WHERE last_ms<?)");
    pe.bind(1, cutoff).step();
    Stmt p(db, "DELETE FROM permit WHERE last_ms<?");
    p.bind(1, cutoff).step();
  }

  void note_time(std::int64_t t) { newest_ms = std::max(newest_ms, t); }

  // db_mu held. Calls f(person, bucket_start, points, log_id) for every group of the track_log rows
  // whose times overlap [t_from, t_to] and whose person `want` takes, in log order, skipping buckets
  // that are sealed (their groups wait for the row to go). False (error set) when a row is malformed.
  template <typename F>
  bool for_log_groups(std::int64_t t_from, std::int64_t t_to, const std::function<bool(int)>& want, F&& f, std::string& error) {
    range_log.reset();
    range_log.bind(1, t_from).bind(2, t_to);
    std::vector<history::LogGroup> groups;
    std::string unpacked;
    std::map<std::pair<int, std::int64_t>, bool> is_sealed;
    std::vector<TrackPoint> pts;
    while (range_log.step() == SQLITE_ROW) {
      groups.clear();
      if (!history::split_log_row(range_log.blob_view(1), unpacked, groups)) {
        error = "history: track_log row " + std::to_string(range_log.i64(0)) + " is damaged";
        range_log.reset();
        return false;
      }
      for (const history::LogGroup& g : groups) {
        if (!want(g.person)) continue;
        auto [it, fresh] = is_sealed.try_emplace({g.person, g.bucket_start_ms}, false);
        if (fresh) it->second = sealed(g.person, g.bucket_start_ms);
        if (it->second) continue;
        pts.clear();
        if (!history::decode_track(g.bucket_start_ms, g.blob, pts)) {
          error = "history: track_log row " + std::to_string(range_log.i64(0)) + " holds a damaged group";
          range_log.reset();
          return false;
        }
        f(g.person, g.bucket_start_ms, pts, range_log.i64(0));
      }
    }
    range_log.reset();
    return true;
  }

  // commits once a second of clock; between commits seals the buckets left, a slice at a time, so
  // a commit is never later than one slice
  void run_flusher() {
    const auto every = std::chrono::milliseconds(opt.flush_every_ms);
    std::unique_lock<std::mutex> lk(mu);
    while (!stopping) {
      opt.clock->wait_until(cv, lk, last_flush + every);
      if (stopping) break;
      if (opt.clock->now() < last_flush + every) continue;
      lk.unlock();
      {
        std::unique_lock<std::mutex> d(db_mu);
        const bool committed = commit_pending();
        bool sealed_some = false;
        while (committed && !to_compact.empty()) {
          if (!compact(kCompactSlice)) break;  // (failed: tried again at the next second)
          sealed_some = true;
          d.unlock();  // a new person's first fix may look them up in between
          bool due = false;
          {
            std::lock_guard<std::mutex> l(mu);
            if (stopping) break;  // the destructor seals the rest
            due = opt.clock->now() >= last_flush + every;
          }
          d.lock();
          if (due) commit_pending();
        }
        if (sealed_some && d.owns_lock()) commit_pending();  // the log rows the seals freed
      }
      lk.lock();
    }
  }
};

SqliteHistory::SqliteHistory(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteHistory::~SqliteHistory() = default;

std::unique_ptr<SqliteHistory> SqliteHistory::open(const std::string& path, const HistoryOptions& opt, std::string& error) {
  auto impl = std::make_unique<Impl>();
  impl->opt = opt;
  if (opt.bucket_ms <= 0 || opt.flush_every_ms <= 0) {
    error = path + ": bucket and flush interval must be positive";
    return nullptr;
  }
  if (!opt.clock) {
    error = path + ": HistoryOptions::clock must not be null (leave the default for the real clock)";
    return nullptr;
  }
  impl->last_flush = opt.clock->now();
  if (sqlite3_open_v2(path.c_str(), &impl->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    error = path + ": cannot open history database: " + (impl->db ? sqlite3_errmsg(impl->db) : "out of memory");
    if (impl->db) sqlite3_close(impl->db);
    impl->db = nullptr;
    return nullptr;
  }
  sqlite3_busy_timeout(impl->db, 5000);
  std::string err;
  // large pages: a track row is about a kilobyte, and 4 KiB pages would leave a fifth of each
  // page empty (only takes effect on a new file)
  impl->exec("PRAGMA page_size=65536");
  // WAL with synchronous=NORMAL: a committed transaction survives the process being killed
  if (!impl->exec("PRAGMA journal_mode=WAL", &err) || !impl->exec("PRAGMA synchronous=NORMAL", &err) ||
      !impl->exec(kSchema, &err)) {
    error = path + ": not a planttwin history database (" + err + ")";
    return nullptr;
  }
  {
    Stmt q(impl->db, "SELECT key, value FROM meta");
    std::map<std::string, std::string> meta;
    while (q.step() == SQLITE_ROW) meta[q.text(0)] = q.text(1);
    if (meta.empty()) {
      Stmt ins(impl->db, "INSERT INTO meta(key, value) VALUES(?, ?)");
      const std::pair<std::string, std::string> rows[] = {
          {"application", "planttwin-history"}, {"schema", "1"}, {"track_format", std::to_string(history::kTrackFormat)},
          {"bucket_ms", std::to_string(opt.bucket_ms)}};
      for (const auto& [k, v] : rows) {
        ins.reset();
        ins.bind(1, k).bind(2, v).step();
      }
    } else {
      if (meta["application"] != "planttwin-history" || meta["schema"] != "1") {
        error = path + ": not a planttwin history database of schema 1";
        return nullptr;
      }
      impl->opt.bucket_ms = std::stoll(meta["bucket_ms"]);  // the file's bucket wins
    }
  }
  Impl& m = *impl;
  m.put_track = Stmt(m.db, "INSERT OR REPLACE INTO track(person, bucket_start, n, t_first, t_last, data) VALUES(?,?,?,?,?,?)");
  m.put_log = Stmt(m.db, "INSERT INTO track_log(id, t_first, t_last, n, data) VALUES(?,?,?,?,?)");
  m.drop_open = Stmt(m.db, "DELETE FROM track_open WHERE person=? AND bucket_start=?");
  m.get_track = Stmt(m.db, "SELECT data FROM track WHERE person=? AND bucket_start=?");
  m.has_track = Stmt(m.db, "SELECT 1 FROM track WHERE person=? AND bucket_start=?");
  m.range_track = Stmt(m.db, "SELECT bucket_start, data FROM track WHERE person=? AND bucket_start>=? AND bucket_start<=? ORDER BY bucket_start");
  m.range_open = Stmt(m.db, "SELECT bucket_start, data FROM track_open WHERE person=? AND bucket_start>=? AND bucket_start<=? ORDER BY bucket_start");
  m.range_log = Stmt(m.db, "SELECT id, data FROM track_log WHERE t_last>=? AND t_first<=? ORDER BY id");
  for (const Stmt* st : {&m.put_track, &m.put_log, &m.drop_open, &m.get_track, &m.has_track, &m.range_track, &m.range_open, &m.range_log})
    if (!st->get()) {
      error = path + ": cannot prepare statements: " + sqlite3_errmsg(m.db);
      m.put_track = Stmt();  // (the destructor writes nothing)
      return nullptr;
    }
  {
    Stmt q(m.db, "SELECT MAX(t_last) FROM (SELECT t_last FROM track_all UNION ALL SELECT t_last FROM track_log)");
    if (q.step() == SQLITE_ROW && !q.is_null(0)) m.newest_ms = q.i64(0);
    Stmt ids(m.db, "SELECT MIN(id), MAX(id) FROM track_log");
    if (ids.step() == SQLITE_ROW && !ids.is_null(0)) m.log_floor = ids.i64(0), m.next_log_id = ids.i64(1) + 1;
  }
  {
    Stmt q(m.db, "SELECT id, code FROM floor");
    while (q.step() == SQLITE_ROW) m.floors.emplace(q.text(0), static_cast<int>(q.i64(1)));
  }
  {
    // What an earlier session left unsealed (it was killed, or its people were still in the
    // plant): track_open rows of older versions, then the groups of track_log in order, skipping
    // buckets sealed since. Each person's newest such bucket is continued by their next fix (or
    // sealed when they move on or fall silent); the older ones are sealed by the first flush.
    std::map<std::pair<int, std::int64_t>, Bucket> found;
    Stmt legacy(m.db, "SELECT person, bucket_start, data FROM track_open ORDER BY person, bucket_start");
    while (legacy.step() == SQLITE_ROW) {
      Bucket& b = found[{static_cast<int>(legacy.i64(0)), legacy.i64(1)}];
      b.person = static_cast<int>(legacy.i64(0)), b.start = legacy.i64(1), b.legacy_open = true;
      if (!history::decode_track(b.start, legacy.blob_view(2), b.points)) {
        error = path + ": track_open row of person " + std::to_string(b.person) + " at " + std::to_string(b.start) + " ms is damaged";
        m.put_track = Stmt();
        return nullptr;
      }
    }
    std::string err2;
    const bool ok = m.for_log_groups(INT64_MIN, INT64_MAX, [](int) { return true; },
                                     [&](int person, std::int64_t start, const std::vector<TrackPoint>& pts, std::int64_t log_id) {
                                       Bucket& b = found[{person, start}];
                                       b.person = person, b.start = start;
                                       if (b.first_log_id == 0) b.first_log_id = log_id;
                                       b.points.insert(b.points.end(), pts.begin(), pts.end());
                                     },
                                     err2);
    if (!ok) {
      error = path + ": " + err2;
      m.put_track = Stmt();
      return nullptr;
    }
    for (auto it = found.begin(); it != found.end();) {
      const int person = it->first.first;
      Stmt q(m.db, "SELECT id FROM person WHERE code=?");
      q.bind(1, person);
      const std::string id = q.step() == SQLITE_ROW ? q.text(0) : "";
      auto end = it;
      while (end != found.end() && end->first.first == person) ++end;
      PersonState st;
      if (!id.empty()) st = m.load_person(id);  // (a code without a person row: its buckets are only sealed)
      st.code = person;
      for (auto b = it; b != end; ++b) {
        Bucket& bucket = b->second;
        bucket.flushed = bucket.points.size();
        if (!bucket.points.empty()) st.last_t = std::max(st.last_t, bucket.points.back().t_ms);
        if (!id.empty() && std::next(b) == end && bucket.start > st.sealed_start) {
          st.disk_open = std::move(bucket);
          st.has_disk_open = true;
        } else {
          m.to_compact.push_back(std::move(bucket));
        }
      }
      if (!id.empty()) m.people.emplace(id, std::move(st));
      it = end;
    }
  }
  auto h = std::unique_ptr<SqliteHistory>(new SqliteHistory(std::move(impl)));
  if (opt.background_flush) h->impl_->flusher = std::thread([p = h->impl_.get()] { p->run_flusher(); });
  return h;
}

void SqliteHistory::person(const HistoryPerson& p) {
  std::lock_guard<std::mutex> lk(impl_->mu);
  impl_->q_people.push_back(p);
}

void SqliteHistory::fix(const HistoryFix& f) {
  Impl& m = *impl_;
  bool flush_now = false;
  bool known = false;
  {
    std::lock_guard<std::mutex> lk(m.mu);
    known = m.fix_locked(f) == Impl::FixResult::kDone;
    if (known) flush_now = m.flush_due_locked();
  }
  if (!known) {
    // a person or floor this session has not met: looked up in the file (db_mu before mu), once
    std::lock_guard<std::mutex> d(m.db_mu);
    bool need_person = false, need_floor = false;
    {
      std::lock_guard<std::mutex> lk(m.mu);
      need_person = m.people.count(f.person) == 0;
      need_floor = !f.floor.empty() && m.floors.count(f.floor) == 0;
    }
    PersonState st;
    int floor = 0;
    if (need_person) st = m.load_person(f.person);
    if (need_floor) floor = m.floor_code_db(f.floor);
    std::lock_guard<std::mutex> lk(m.mu);
    if (need_person) m.people.emplace(f.person, std::move(st));
    if (need_floor) m.floors.emplace(f.floor, floor);
    m.fix_locked(f);
    flush_now = m.flush_due_locked();
  }
  if (flush_now) {  // only without the background thread
    std::lock_guard<std::mutex> d(m.db_mu);
    m.flush_all();
  }
}

void SqliteHistory::zone_entry(const HistoryZoneEntry& e) {
  std::lock_guard<std::mutex> lk(impl_->mu);
  impl_->q_zones.push_back(e);
  impl_->note_time(e.t_ms);
}

void SqliteHistory::alarm(const HistoryAlarm& a) {
  if (a.events.empty()) return;
  std::int64_t last = 0;
  for (const HistoryAlarmEvent& e : a.events) last = std::max(last, e.t_ms);
  std::lock_guard<std::mutex> lk(impl_->mu);
  impl_->q_alarms.push_back(a);
  impl_->note_time(last);
}

void SqliteHistory::permit(const HistoryPermit& p) {
  std::lock_guard<std::mutex> lk(impl_->mu);
  impl_->q_permits.push_back(p);
  if (!p.events.empty()) {
    std::int64_t last = INT64_MIN;
    for (const auto& [t, e] : p.events) last = std::max(last, t);
    impl_->note_time(last);
  }
}

void SqliteHistory::flush() {
  std::lock_guard<std::mutex> d(impl_->db_mu);
  impl_->flush_all();
}

std::uint64_t SqliteHistory::stored_fixes() {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> d(m.db_mu);
  m.commit_pending();
  std::uint64_t n = 0;
  Stmt q(m.db, "SELECT IFNULL(SUM(n), 0) FROM track_all");
  if (q.step() == SQLITE_ROW) n = static_cast<std::uint64_t>(q.i64(0));
  std::string err;
  m.for_log_groups(INT64_MIN, INT64_MAX, [](int) { return true; },
                   [&](int, std::int64_t, const std::vector<TrackPoint>& pts, std::int64_t) { n += pts.size(); }, err);
  return n;
}

void SqliteHistory::checkpoint() {
  flush();
  std::lock_guard<std::mutex> d(impl_->db_mu);
  sqlite3_wal_checkpoint_v2(impl_->db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
}

void SqliteHistory::apply_retention() {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> d(m.db_mu);
  m.commit_pending();
  std::int64_t newest = INT64_MIN;
  {
    std::lock_guard<std::mutex> lk(m.mu);
    newest = m.newest_ms;
  }
  if (m.opt.retention_ms <= 0 || newest == INT64_MIN) return;
  m.exec("BEGIN");
  m.retention(newest);
  m.exec("COMMIT");
}

bool SqliteHistory::track(const std::string& person, std::int64_t from_ms, std::int64_t to_ms, std::vector<HistoryFix>& out,
                          std::string& error, TrackQueryStats* stats) {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> d(m.db_mu);
  m.commit_pending();
  Stmt q(m.db, "SELECT code FROM person WHERE id=?");
  q.bind(1, person);
  if (q.step() != SQLITE_ROW) return true;  // nobody by that id: an empty track
  const std::int64_t code = q.i64(0);
  // only the buckets that overlap [from, to]: sealed rows, then what is not sealed yet (a
  // track_open row of an older version, then the person's groups in track_log, in log order)
  std::map<std::int64_t, std::vector<TrackPoint>> buckets;
  const std::int64_t first_bucket = floor_div(from_ms, m.opt.bucket_ms) * m.opt.bucket_ms;
  for (Stmt* r : {&m.range_track, &m.range_open}) {
    r->reset();
    r->bind(1, code).bind(2, first_bucket).bind(3, to_ms);
    while (r->step() == SQLITE_ROW) {
      const std::int64_t start = r->i64(0);
      if (!history::decode_track(start, r->blob_view(1), buckets[start])) {
        error = "history: track bucket of " + person + " at " + std::to_string(start) + " ms is damaged or of an unknown format";
        r->reset();
        return false;
      }
    }
    r->reset();
  }
  if (!m.for_log_groups(first_bucket, to_ms, [&](int p) { return p == code; },
                        [&](int, std::int64_t start, const std::vector<TrackPoint>& pts, std::int64_t) {
                          if (start < first_bucket || start > to_ms) return;
                          auto& v = buckets[start];
                          v.insert(v.end(), pts.begin(), pts.end());
                        },
                        error))
    return false;
  std::map<int, std::string> floor_cache;
  for (const auto& [start, pts] : buckets)
    for (const TrackPoint& p : pts) {
      if (p.t_ms < from_ms || p.t_ms > to_ms) continue;
      auto fc = floor_cache.find(p.floor);
      if (fc == floor_cache.end()) fc = floor_cache.emplace(p.floor, m.floor_name(p.floor)).first;
      out.push_back({person, p.t_ms, p.x_cm, p.y_cm, p.z_cm, fc->second});
    }
  // keep time order in every case (a file written by hand or by an older version could break it)
  if (!std::is_sorted(out.begin(), out.end(), [](const HistoryFix& a, const HistoryFix& b) { return a.t_ms < b.t_ms; }))
    std::stable_sort(out.begin(), out.end(), [](const HistoryFix& a, const HistoryFix& b) { return a.t_ms < b.t_ms; });
  if (stats) stats->buckets_read = static_cast<int>(buckets.size());
  return true;
}

bool SqliteHistory::stats(std::int64_t from_ms, std::int64_t to_ms, int utc_offset_min, HistoryStats& out, std::string& error) {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> d(m.db_mu);
  m.commit_pending();
  out = HistoryStats{};
  // the plant: distinct people with a track on each local day, by category
  {
    std::map<std::tuple<std::string, std::string>, std::set<std::int64_t>> seen;  // (day, category) -> people
    Stmt q(m.db, "SELECT t.person, p.category, t.t_first, t.t_last FROM track_all t JOIN person p ON p.code=t.person "
                 "WHERE t.t_last>=? AND t.t_first<=?");
    q.bind(1, from_ms).bind(2, to_ms);
    while (q.step() == SQLITE_ROW) {
      const std::int64_t a = std::max(q.i64(2), from_ms), b = std::min(q.i64(3), to_ms);
      seen[{local_day(a, utc_offset_min), q.text(1)}].insert(q.i64(0));
      seen[{local_day(b, utc_offset_min), q.text(1)}].insert(q.i64(0));
    }
    // and what is not sealed yet, in track_log
    std::map<int, std::string> category;
    Stmt cat(m.db, "SELECT category FROM person WHERE code=?");
    const bool ok = m.for_log_groups(from_ms, to_ms, [](int) { return true; },
                                     [&](int person, std::int64_t, const std::vector<TrackPoint>& pts, std::int64_t) {
                                       if (pts.empty() || pts.back().t_ms < from_ms || pts.front().t_ms > to_ms) return;
                                       auto c = category.find(person);
                                       if (c == category.end()) {
                                         cat.reset();
                                         cat.bind(1, person);
                                         c = category.emplace(person, cat.step() == SQLITE_ROW ? cat.text(0) : "").first;
                                         cat.reset();
                                       }
                                       const std::int64_t a = std::max(pts.front().t_ms, from_ms), b = std::min(pts.back().t_ms, to_ms);
                                       seen[{local_day(a, utc_offset_min), c->second}].insert(person);
                                       seen[{local_day(b, utc_offset_min), c->second}].insert(person);
                                     },
                                     error);
    if (!ok) return false;
    for (const auto& [k, s] : seen)
      out.entries.push_back({std::get<0>(k), "", std::get<1>(k), static_cast<int>(s.size()), static_cast<int>(s.size())});
  }
  // zones: entries by category and day
  {
    std::map<std::tuple<std::string, std::string, std::string>, int> n;
    Stmt q(m.db, "SELECT t_ms, zone, category, count FROM zone_entry WHERE t_ms>=? AND t_ms<=?");
    q.bind(1, from_ms).bind(2, to_ms);
    while (q.step() == SQLITE_ROW) n[{local_day(q.i64(0), utc_offset_min), q.text(1), q.text(2)}] += static_cast<int>(q.i64(3));
    for (const auto& [k, c] : n) out.entries.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), 0, c});
  }
  std::sort(out.entries.begin(), out.entries.end(), [](const HistoryStats::Entry& a, const HistoryStats::Entry& b) {
    return std::tie(a.day, a.zone, a.category) < std::tie(b.day, b.zone, b.category);
  });
  // alarms raised in the range
  {
    std::map<std::tuple<std::string, std::string, std::string, std::string>, HistoryStats::AlarmGroup> g;
    std::map<std::pair<std::string, std::string>, int> codes;
    Stmt q(m.db, "SELECT type, level, zone, status, raised_ms, acknowledged_ms, handled_ms, closed_ms, code FROM alarm "
                 "WHERE raised_ms>=? AND raised_ms<=?");
    q.bind(1, from_ms).bind(2, to_ms);
    while (q.step() == SQLITE_ROW) {
      HistoryStats::AlarmGroup& a = g[{q.text(0), q.text(1), q.text(2), q.text(3)}];
      a.type = q.text(0), a.level = q.text(1), a.zone = q.text(2), a.status = q.text(3);
      ++a.count;
      const double raised = static_cast<double>(q.i64(4));
      if (!q.is_null(5)) ++a.acknowledged, a.mean_ack_s += (static_cast<double>(q.i64(5)) - raised) / 1000.0;
      if (!q.is_null(6)) ++a.handled, a.mean_handle_s += (static_cast<double>(q.i64(6)) - raised) / 1000.0;
      if (!q.is_null(7)) ++a.closed, a.mean_close_s += (static_cast<double>(q.i64(7)) - raised) / 1000.0;
      if (!q.text(8).empty()) ++codes[{q.text(8), q.text(0)}];
    }
    for (auto& [k, a] : g) {
      if (a.acknowledged) a.mean_ack_s /= a.acknowledged;
      if (a.handled) a.mean_handle_s /= a.handled;
      if (a.closed) a.mean_close_s /= a.closed;
      out.alarms.push_back(a);
    }
    for (const auto& [k, c] : codes) out.codes.push_back({k.first, k.second, c});
  }
  // permits active in the range
  {
    std::map<std::tuple<std::string, std::string, std::string>, int> n;
    Stmt q(m.db, "SELECT type, grade, status FROM permit WHERE last_ms>=? AND first_ms<=?");
    q.bind(1, from_ms).bind(2, to_ms);
    while (q.step() == SQLITE_ROW) ++n[{q.text(0), q.text(1), q.text(2)}];
    for (const auto& [k, c] : n) out.permits.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), c});
  }
  return true;
}

std::vector<std::string> SqliteHistory::people() {
  std::lock_guard<std::mutex> d(impl_->db_mu);
  impl_->commit_pending();
  std::vector<std::string> v;
  Stmt q(impl_->db, "SELECT id FROM person ORDER BY id");
  while (q.step() == SQLITE_ROW) v.push_back(q.text(0));
  return v;
}

HistoryCounters SqliteHistory::counters() const {
  std::lock_guard<std::mutex> lk(impl_->mu);
  return impl_->counters;
}

std::optional<HistorySinkStatus> SqliteHistory::status() const {
  const HistoryCounters c = counters();
  return HistorySinkStatus{c.fixes, c.fixes_durable, c.out_of_order, c.write_errors, c.last_write_error};
}

std::int64_t SqliteHistory::bucket_ms() const { return impl_->opt.bucket_ms; }

}  // namespace planttwin
