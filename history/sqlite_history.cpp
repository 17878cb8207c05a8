#include "history/sqlite_history.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <cstdio>
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
CREATE TABLE IF NOT EXISTS track_tail(person INTEGER NOT NULL, bucket_start INTEGER NOT NULL, n INTEGER NOT NULL,
                                      t_first INTEGER NOT NULL, t_last INTEGER NOT NULL, data BLOB NOT NULL, seq INTEGER NOT NULL,
                                      PRIMARY KEY(person, bucket_start, seq));
DROP VIEW IF EXISTS track_all;
CREATE VIEW track_all AS SELECT person, bucket_start, n, t_first, t_last, data FROM track
  UNION ALL SELECT person, bucket_start, n, t_first, t_last, data FROM track_open
  UNION ALL SELECT person, bucket_start, n, t_first, t_last, data FROM track_tail;
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

// A person's bucket as far as memory holds it: the points not yet in the file. Earlier points of
// the same bucket may be in the file already (`on_disk`: chunks in track_tail, or a track_open
// row an older version wrote).
struct Bucket {
  int person = 0;
  std::int64_t start = 0;
  std::vector<TrackPoint> points;
  bool on_disk = false;
  std::int64_t next_seq = 0;  // the next chunk's number in track_tail
};

struct PersonState {
  int code = 0;
  bool has_open = false;
  bool listed = false;  // in Impl::dirty_people
  Bucket open;
  std::int64_t last_t = INT64_MIN;
  // the person's newest bucket that the file holds unsealed from an earlier session, until this
  // session's fixes continue it (same bucket) or leave it (a later one: it is sealed)
  bool has_disk_open = false;
  std::int64_t disk_open_start = 0, disk_next_seq = 0;
};

struct Chunk {
  int person = 0;
  std::int64_t start = 0, seq = 0;
  std::vector<TrackPoint> points;
};

struct BucketKey {
  int person = 0;
  std::int64_t start = 0;
};

}  // namespace

// Two locks (docs/history.md "Threads"): `mu` guards what the callers' threads touch (people,
// buckets in memory, the queues of what is not yet written, counters); `db_mu` guards the SQLite
// connection. The live loop's fix() takes only `mu`, except once per new person or floor; the
// flush takes `mu` only to move what is pending out of memory, then writes under `db_mu` alone, so
// encoding, SQLite and sealing buckets never hold up an input. Order: db_mu before mu.
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
  // --- under db_mu
  std::vector<BucketKey> to_compact;  // buckets in the file as chunks, to be sealed into one row
  std::int64_t retention_done_ms = INT64_MIN;
  Stmt put_track, put_tail, drop_open, drop_tail, get_track, get_open, get_tail, range_track, range_open, range_tail;
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
      {
        std::lock_guard<std::mutex> d(db_mu);
        commit_pending();
        while (compact(kCompactSlice) > 0) {
        }
      }
      put_track = Stmt(), put_tail = Stmt(), drop_open = Stmt(), drop_tail = Stmt();
      get_track = Stmt(), get_open = Stmt(), get_tail = Stmt();
      range_track = Stmt(), range_open = Stmt(), range_tail = Stmt();
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

  // db_mu held. What the file holds of a person this session meets for the first time: the time
  // of their newest fix, and their newest bucket if it is not sealed (to be continued).
  PersonState load_person(const std::string& id) {
    PersonState st;
    st.code = person_code(id);
    Stmt newest_sealed(db, "SELECT t_last FROM track WHERE person=? ORDER BY bucket_start DESC LIMIT 1");
    newest_sealed.bind(1, st.code);
    if (newest_sealed.step() == SQLITE_ROW) st.last_t = newest_sealed.i64(0);
    Stmt open(db, "SELECT bucket_start, MAX(t_last) FROM (SELECT bucket_start, t_last FROM track_open WHERE person=?1 "
                  "UNION ALL SELECT bucket_start, t_last FROM track_tail WHERE person=?1) GROUP BY bucket_start ORDER BY bucket_start");
    open.bind(1, st.code);
    while (open.step() == SQLITE_ROW) {
      // older unsealed buckets were scheduled for sealing by open(); the newest is continued
      st.has_disk_open = true;
      st.disk_open_start = open.i64(0);
      st.last_t = std::max(st.last_t, open.i64(1));
    }
    if (st.has_disk_open) {
      Stmt seq(db, "SELECT MAX(seq) FROM track_tail WHERE person=? AND bucket_start=?");
      seq.bind(1, st.code).bind(2, st.disk_open_start);
      if (seq.step() == SQLITE_ROW && !seq.is_null(0)) st.disk_next_seq = seq.i64(0) + 1;
    }
    return st;
  }

  // mu held. False when the person or the floor is not known yet (the caller looks them up in the
  // file and comes back).
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
      if (st.has_open && (st.open.on_disk || !st.open.points.empty())) to_seal.push_back(std::move(st.open));
      st.open = Bucket{st.code, b, {}, false, 0};
      st.has_open = true;
      if (st.has_disk_open) {
        if (b == st.disk_open_start) {
          st.open.on_disk = true;  // continues what an earlier session left in the file
          st.open.next_seq = st.disk_next_seq;
        } else if (b > st.disk_open_start) {
          to_seal.push_back(Bucket{st.code, st.disk_open_start, {}, true, st.disk_next_seq});
        }
        st.has_disk_open = b < st.disk_open_start;  // (cannot happen: the fix would be out of order)
      }
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

  // db_mu held. One chunk or sealed row.
  void put_row(Stmt& put, int person, std::int64_t start, std::int64_t seq, const std::vector<TrackPoint>& pts,
               const std::string& blob) {
    put.reset();
    put.bind(1, person).bind(2, start).bind(3, static_cast<std::int64_t>(pts.size()));
    put.bind(4, pts.front().t_ms).bind(5, pts.back().t_ms).blob(6, blob);
    if (&put == &put_tail) put.bind(7, seq);
    put.step();
    put.reset();
  }

  // db_mu held, mu not. Writes what memory holds and the file does not, in one transaction:
  // afterwards a kill -9 keeps every fix counted so far (counters.fixes_durable).
  void commit_pending() {
    std::vector<Bucket> seals;
    std::vector<Chunk> chunks;
    std::vector<HistoryPerson> persons;
    std::vector<HistoryZoneEntry> zones;
    std::vector<HistoryAlarm> alarms;
    std::vector<HistoryPermit> permits;
    std::uint64_t fixes = 0;
    std::int64_t newest = INT64_MIN;
    {
      std::lock_guard<std::mutex> lk(mu);
      last_flush = opt.clock->now();
      seals.swap(to_seal);
      chunks.reserve(dirty_people.size());
      for (PersonState* st : dirty_people) {
        st->listed = false;
        if (st->open.points.empty()) continue;  // (sealed since it was listed)
        chunks.push_back({st->code, st->open.start, st->open.next_seq++, std::move(st->open.points)});
        st->open.points = {};
        st->open.on_disk = true;
      }
      dirty_people.clear();
      persons.swap(q_people);
      zones.swap(q_zones);
      alarms.swap(q_alarms);
      permits.swap(q_permits);
      fixes = counters.fixes;
      newest = newest_ms;
    }
    const bool retention_due = retention_is_due(newest);
    if (seals.empty() && chunks.empty() && persons.empty() && zones.empty() && alarms.empty() && permits.empty() &&
        !retention_due) {
      std::lock_guard<std::mutex> lk(mu);
      counters.fixes_durable = fixes;  // nothing pending: all in the file
      return;
    }
    std::uint64_t written = 0;
    exec("BEGIN");
    for (const HistoryPerson& p : persons) write_person(p);
    for (Bucket& b : seals) {
      if (!b.on_disk) {  // whole in memory: sealed at once
        if (!b.points.empty())
          put_row(put_track, b.person, b.start, 0, b.points, history::encode_track(b.start, b.points, opt.compress, true)), ++written;
      } else {  // its last points go as a chunk; the bucket is sealed from the file afterwards
        if (!b.points.empty())
          put_row(put_tail, b.person, b.start, b.next_seq, b.points, history::encode_track(b.start, b.points, false, false));
        to_compact.push_back({b.person, b.start});
      }
    }
    for (const Chunk& c : chunks)
      put_row(put_tail, c.person, c.start, c.seq, c.points, history::encode_track(c.start, c.points, false, false));
    for (const HistoryZoneEntry& e : zones) write_zone_entry(e);
    for (const HistoryAlarm& a : alarms) write_alarm(a);
    for (const HistoryPermit& p : permits) write_permit(p);
    if (retention_due) retention(newest);
    exec("COMMIT");
    std::lock_guard<std::mutex> lk(mu);
    ++counters.flushes;
    counters.buckets_written += written;
    counters.fixes_durable = fixes;  // committed: survives a kill -9 from here on
  }

  // db_mu held. Seals up to `max` buckets of to_compact from their chunks (one transaction): one
  // row in `track`, the chunks and any track_open row removed. Returns how many are left.
  std::size_t compact(std::size_t max) {
    if (to_compact.empty()) return 0;
    const std::size_t n = std::min(max, to_compact.size());
    std::vector<TrackPoint> pts;
    exec("BEGIN");
    for (std::size_t i = 0; i < n; ++i) {
      const BucketKey& k = to_compact[i];
      pts.clear();
      // a sealed row is never written twice for a bucket; should one be there, keep its points first
      for (Stmt* q : {&get_track, &get_open, &get_tail}) {
        q->reset();
        q->bind(1, k.person).bind(2, k.start);
        while (q->step() == SQLITE_ROW) history::decode_track(k.start, q->blob_view(0), pts);
        q->reset();
      }
      if (!pts.empty()) {
        put_row(put_track, k.person, k.start, 0, pts, history::encode_track(k.start, pts, opt.compress, true));
        std::lock_guard<std::mutex> lk(mu);
        ++counters.buckets_written;
      }
      for (Stmt* d : {&drop_open, &drop_tail}) {
        d->reset();
        d->bind(1, k.person).bind(2, k.start).step();
        d->reset();
      }
    }
    exec("COMMIT");
    to_compact.erase(to_compact.begin(), to_compact.begin() + static_cast<std::ptrdiff_t>(n));
    return to_compact.size();
  }

  void write_person(const HistoryPerson& p) {
    Stmt s(db, "INSERT INTO person(id, name, category) VALUES(?,?,?) ON CONFLICT(id) DO UPDATE SET name=excluded.name, category=excluded.category");
    s.bind(1, p.id).bind(2, p.name).bind(3, p.category).step();
  }

  void write_zone_entry(const HistoryZoneEntry& e) {
    Stmt s(db, "INSERT INTO zone_entry(t_ms, zone, category, count) VALUES(?,?,?,?)");
    s.bind(1, e.t_ms).bind(2, e.zone).bind(3, e.category).bind(4, e.count).step();
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
    s.bind(17, last).step();
    Stmt del(db, "DELETE FROM alarm_event WHERE run=? AND alarm=?");
    del.bind(1, a.run).bind(2, a.id).step();
    Stmt ins(db, "INSERT INTO alarm_event(run, alarm, seq, t_ms, kind, level, by, note) VALUES(?,?,?,?,?,?,?,?)");
    for (size_t i = 0; i < a.events.size(); ++i) {
      const HistoryAlarmEvent& e = a.events[i];
      ins.reset();
      ins.bind(1, a.run).bind(2, a.id).bind(3, static_cast<std::int64_t>(i)).bind(4, e.t_ms).bind(5, e.kind).bind(6, e.level);
      ins.bind(7, e.by).bind(8, e.note).step();
    }
  }

  void write_permit(const HistoryPermit& p) {
    std::int64_t first = INT64_MAX, last = INT64_MIN;
    for (const auto& [t, e] : p.events) first = std::min(first, t), last = std::max(last, t);
    if (p.events.empty()) first = last = 0;
    Stmt s(db, "INSERT OR REPLACE INTO permit(run, id, type, grade, status, first_ms, last_ms) VALUES(?,?,?,?,?,?,?)");
    s.bind(1, p.run).bind(2, p.id).bind(3, p.type).bind(4, p.grade).bind(5, p.status).bind(6, first).bind(7, last).step();
    Stmt del(db, "DELETE FROM permit_event WHERE run=? AND permit=?");
    del.bind(1, p.run).bind(2, p.id).step();
    Stmt ins(db, "INSERT INTO permit_event(run, permit, seq, t_ms, event) VALUES(?,?,?,?,?)");
    for (size_t i = 0; i < p.events.size(); ++i) {
      ins.reset();
      ins.bind(1, p.run).bind(2, p.id).bind(3, static_cast<std::int64_t>(i)).bind(4, p.events[i].first).bind(5, p.events[i].second).step();
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
    Stmt del_tail(db, "DELETE FROM track_tail WHERE person=? AND bucket_start<?");
    while (codes.step() == SQLITE_ROW)
      for (Stmt* d : {&del, &del_open, &del_tail}) {
        d->reset();
        d->bind(1, codes.i64(0)).bind(2, first_kept);
        d->step();
        if (d != &del_tail) deleted += static_cast<std::uint64_t>(sqlite3_changes(db));
      }
    to_compact.erase(std::remove_if(to_compact.begin(), to_compact.end(), [&](const BucketKey& k) { return k.start < first_kept; }),
                     to_compact.end());
    {
      // a person's open bucket that retention removed must not come back at the next flush
      std::lock_guard<std::mutex> lk(mu);
      counters.buckets_deleted += deleted;
      for (auto& [id, st] : people) {
        if (st.has_open && st.open.start < first_kept) st.has_open = false, st.open.points.clear();
        if (st.has_disk_open && st.disk_open_start < first_kept) st.has_disk_open = false;
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

  // commits once a second of clock; between commits seals what buckets ended, a slice at a time,
  // so a commit is never later than one slice
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
        commit_pending();
        for (;;) {
          const std::size_t left = compact(kCompactSlice);
          if (left == 0) break;
          d.unlock();  // a new person's first fix may look them up in between
          {
            std::lock_guard<std::mutex> l(mu);
            if (stopping) break;  // the destructor seals the rest
          }
          d.lock();
          bool due = false;
          {
            std::lock_guard<std::mutex> l(mu);
            due = opt.clock->now() >= last_flush + every;
          }
          if (due) commit_pending();
        }
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
  m.put_tail = Stmt(m.db, "INSERT OR REPLACE INTO track_tail(person, bucket_start, n, t_first, t_last, data, seq) VALUES(?,?,?,?,?,?,?)");
  m.drop_open = Stmt(m.db, "DELETE FROM track_open WHERE person=? AND bucket_start=?");
  m.drop_tail = Stmt(m.db, "DELETE FROM track_tail WHERE person=? AND bucket_start=?");
  m.get_track = Stmt(m.db, "SELECT data FROM track WHERE person=? AND bucket_start=?");
  m.get_open = Stmt(m.db, "SELECT data FROM track_open WHERE person=? AND bucket_start=?");
  m.get_tail = Stmt(m.db, "SELECT data FROM track_tail WHERE person=? AND bucket_start=? ORDER BY seq");
  m.range_track = Stmt(m.db, "SELECT bucket_start, data FROM track WHERE person=? AND bucket_start>=? AND bucket_start<=? ORDER BY bucket_start");
  m.range_open = Stmt(m.db, "SELECT bucket_start, data FROM track_open WHERE person=? AND bucket_start>=? AND bucket_start<=? ORDER BY bucket_start");
  m.range_tail = Stmt(m.db, "SELECT bucket_start, data FROM track_tail WHERE person=? AND bucket_start>=? AND bucket_start<=? "
                            "ORDER BY bucket_start, seq");
  {
    Stmt q(m.db, "SELECT MAX(t_last) FROM track_all");
    if (q.step() == SQLITE_ROW && !q.is_null(0)) m.newest_ms = q.i64(0);
  }
  for (const Stmt* st : {&m.put_track, &m.put_tail, &m.drop_open, &m.drop_tail, &m.get_track, &m.get_open, &m.get_tail,
                         &m.range_track, &m.range_open, &m.range_tail})
    if (!st->get()) {
      error = path + ": cannot prepare statements: " + sqlite3_errmsg(m.db);
      return nullptr;
    }
  {
    // unsealed buckets an earlier session left behind that are not their person's newest: sealed
    // by the first flush (a person's newest is continued or sealed when they are next seen)
    Stmt q(m.db, "SELECT person, bucket_start FROM (SELECT person, bucket_start FROM track_open UNION SELECT person, bucket_start "
                 "FROM track_tail) AS u WHERE bucket_start < (SELECT MAX(bucket_start) FROM (SELECT bucket_start FROM track_open "
                 "WHERE person=u.person UNION ALL SELECT bucket_start FROM track_tail WHERE person=u.person)) ORDER BY person, bucket_start");
    while (q.step() == SQLITE_ROW) m.to_compact.push_back({static_cast<int>(q.i64(0)), q.i64(1)});
  }
  {
    Stmt q(m.db, "SELECT id, code FROM floor");
    while (q.step() == SQLITE_ROW) m.floors.emplace(q.text(0), static_cast<int>(q.i64(1)));
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
    m.commit_pending();
    while (m.compact(Impl::kCompactSlice) > 0) {
    }
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
  impl_->commit_pending();
  while (impl_->compact(Impl::kCompactSlice) > 0) {
  }
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
  // track_open row of an older version, then the chunks in order), each bucket in time order
  std::map<std::int64_t, std::vector<TrackPoint>> buckets;
  for (Stmt* r : {&m.range_track, &m.range_open, &m.range_tail}) {
    r->reset();
    r->bind(1, code).bind(2, floor_div(from_ms, m.opt.bucket_ms) * m.opt.bucket_ms).bind(3, to_ms);
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
  (void)error;
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

std::int64_t SqliteHistory::bucket_ms() const { return impl_->opt.bucket_ms; }

}  // namespace planttwin
