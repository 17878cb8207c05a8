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

struct Bucket {
  int person = 0;
  std::int64_t start = 0;
  std::vector<TrackPoint> points;
};

struct PersonState {
  int code = 0;
  bool has_open = false;
  bool dirty = false;
  Bucket open;
  std::int64_t last_t = INT64_MIN;
};

}  // namespace

struct SqliteHistory::Impl {
  sqlite3* db = nullptr;
  HistoryOptions opt;
  mutable std::mutex mu;
  std::unordered_map<std::string, PersonState> people;
  std::unordered_map<std::string, int> floors;
  std::vector<Bucket> sealed;  // waiting for the next flush
  std::vector<std::string> pending_sql_people;
  bool dirty = false;
  std::int64_t newest_ms = INT64_MIN, retention_done_ms = INT64_MIN;
  HistoryCounters counters;
  Stmt put_track, put_open, drop_open, get_track, get_open, range_track, range_open;
  Clock::time_point last_flush;  // on opt.clock, set by open()
  std::uint32_t calls = 0;
  std::thread flusher;
  std::condition_variable_any cv;  // waited on and notified through opt.clock
  bool stopping = false;

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
      flush_locked();
      put_track = Stmt(), put_open = Stmt(), drop_open = Stmt();
      get_track = Stmt(), get_open = Stmt();
      range_track = Stmt(), range_open = Stmt();
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

  int person_code(const std::string& id) {
    Stmt ins(db, "INSERT OR IGNORE INTO person(id) VALUES(?)");
    ins.bind(1, id).step();
    Stmt q(db, "SELECT code FROM person WHERE id=?");
    q.bind(1, id);
    return q.step() == SQLITE_ROW ? static_cast<int>(q.i64(0)) : 0;
  }

  int floor_code(const std::string& id) {
    if (id.empty()) return 0;
    auto it = floors.find(id);
    if (it != floors.end()) return it->second;
    Stmt ins(db, "INSERT OR IGNORE INTO floor(id) VALUES(?)");
    ins.bind(1, id).step();
    Stmt q(db, "SELECT code FROM floor WHERE id=?");
    q.bind(1, id);
    const int code = q.step() == SQLITE_ROW ? static_cast<int>(q.i64(0)) : 0;
    floors.emplace(id, code);
    return code;
  }

  std::string floor_name(int code) {
    if (code == 0) return "";
    for (const auto& [k, v] : floors)
      if (v == code) return k;
    Stmt q(db, "SELECT id FROM floor WHERE code=?");
    q.bind(1, code);
    std::string s = q.step() == SQLITE_ROW ? q.text(0) : "";
    if (!s.empty()) floors.emplace(s, code);
    return s;
  }

  // continues a bucket already on disk (another session wrote it)
  void load_bucket(Bucket& b) {
    for (Stmt* q : {&get_track, &get_open}) {
      q->reset();
      q->bind(1, b.person).bind(2, b.start);
      if (q->step() == SQLITE_ROW) history::decode_track(b.start, q->blob_view(0), b.points);
      q->reset();
      if (!b.points.empty()) return;
    }
  }

  // Sealed buckets go to `track`, append-only, so its pages fill up; a bucket still open is
  // rewritten at every flush in the small `track_open` table and moves over when it seals.
  void write_bucket(const Bucket& b, bool is_sealed) {
    if (b.points.empty()) return;
    const std::string blob = history::encode_track(b.start, b.points, opt.compress, is_sealed);
    Stmt& put = is_sealed ? put_track : put_open;
    put.reset();
    put.bind(1, b.person).bind(2, b.start).bind(3, static_cast<std::int64_t>(b.points.size()));
    put.bind(4, b.points.front().t_ms).bind(5, b.points.back().t_ms).blob(6, blob);
    put.step();
    put.reset();
    if (is_sealed) {
      drop_open.reset();
      drop_open.bind(1, b.person).bind(2, b.start).step();
      drop_open.reset();
    }
    ++counters.buckets_written;
  }

  void maybe_flush_locked() {
    if ((++calls & 1023) != 0) return;
    if (opt.clock->now() - last_flush >= std::chrono::milliseconds(opt.flush_every_ms)) flush_locked();
  }

  void flush_locked() {
    last_flush = opt.clock->now();
    if (!dirty && sealed.empty()) {
      counters.fixes_durable = counters.fixes;  // nothing pending: all in the file
      return;
    }
    exec("BEGIN");
    for (const Bucket& b : sealed) write_bucket(b, true);
    sealed.clear();
    for (auto& [id, st] : people)
      if (st.dirty) {
        write_bucket(st.open, false);
        st.dirty = false;
      }
    retention_locked();
    exec("COMMIT");
    dirty = false;
    ++counters.flushes;
    counters.fixes_durable = counters.fixes;  // committed: survives a kill -9 from here on
  }

  void retention_locked() {
    if (opt.retention_ms <= 0 || newest_ms == INT64_MIN) return;
    const std::int64_t cutoff = newest_ms - opt.retention_ms;
    // once per bucket of progress is enough; old buckets only ever leave
    if (retention_done_ms != INT64_MIN && cutoff < retention_done_ms + opt.bucket_ms) return;
    retention_done_ms = cutoff;
    Stmt codes(db, "SELECT code FROM person");
    Stmt del(db, "DELETE FROM track WHERE person=? AND bucket_start<?");
    Stmt del_open(db, "DELETE FROM track_open WHERE person=? AND bucket_start<?");
    while (codes.step() == SQLITE_ROW)
      for (Stmt* d : {&del, &del_open}) {
        d->reset();
        d->bind(1, codes.i64(0)).bind(2, cutoff - opt.bucket_ms + 1);  // whole buckets ending before cutoff
        d->step();
        counters.buckets_deleted += static_cast<std::uint64_t>(sqlite3_changes(db));
      }
    // a person's open bucket that retention removed must not come back at the next flush
    for (auto& [id, st] : people)
      if (st.has_open && st.open.start < cutoff - opt.bucket_ms + 1) st.has_open = false, st.dirty = false;
    sealed.erase(std::remove_if(sealed.begin(), sealed.end(), [&](const Bucket& b) { return b.start < cutoff - opt.bucket_ms + 1; }),
                 sealed.end());
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

  void note_time(std::int64_t t) {
    newest_ms = std::max(newest_ms, t);
    dirty = true;
  }

  void run_flusher() {
    std::unique_lock<std::mutex> lk(mu);
    // wakes when the last flush is one interval old, so nothing waits longer than that
    const auto every = std::chrono::milliseconds(opt.flush_every_ms);
    while (!stopping) {
      opt.clock->wait_until(cv, lk, last_flush + every);
      if (stopping) break;
      if (opt.clock->now() >= last_flush + every) flush_locked();
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
  impl->put_track = Stmt(impl->db, "INSERT OR REPLACE INTO track(person, bucket_start, n, t_first, t_last, data) VALUES(?,?,?,?,?,?)");
  impl->put_open = Stmt(impl->db, "INSERT OR REPLACE INTO track_open(person, bucket_start, n, t_first, t_last, data) VALUES(?,?,?,?,?,?)");
  impl->drop_open = Stmt(impl->db, "DELETE FROM track_open WHERE person=? AND bucket_start=?");
  impl->get_track = Stmt(impl->db, "SELECT data FROM track WHERE person=? AND bucket_start=?");
  impl->get_open = Stmt(impl->db, "SELECT data FROM track_open WHERE person=? AND bucket_start=?");
  impl->range_track = Stmt(impl->db, "SELECT bucket_start, data FROM track WHERE person=? AND bucket_start>=? AND bucket_start<=? ORDER BY bucket_start");
  impl->range_open = Stmt(impl->db, "SELECT bucket_start, data FROM track_open WHERE person=? AND bucket_start>=? AND bucket_start<=? ORDER BY bucket_start");
  {
    Stmt q(impl->db, "SELECT MAX(t_last) FROM track_all");
    if (q.step() == SQLITE_ROW && !q.is_null(0)) impl->newest_ms = q.i64(0);
  }
  if (!impl->put_track.get() || !impl->put_open.get() || !impl->drop_open.get() || !impl->get_track.get() || !impl->get_open.get() ||
      !impl->range_track.get() || !impl->range_open.get()) {
    error = path + ": cannot prepare statements: " + sqlite3_errmsg(impl->db);
    return nullptr;
  }
  auto h = std::unique_ptr<SqliteHistory>(new SqliteHistory(std::move(impl)));
  if (opt.background_flush) h->impl_->flusher = std::thread([p = h->impl_.get()] { p->run_flusher(); });
  return h;
}

void SqliteHistory::person(const HistoryPerson& p) {
  std::lock_guard<std::mutex> lk(impl_->mu);
  Stmt s(impl_->db,
         "INSERT INTO person(id, name, category) VALUES(?,?,?) ON CONFLICT(id) DO UPDATE SET name=excluded.name, category=excluded.category");
  s.bind(1, p.id).bind(2, p.name).bind(3, p.category).step();
}

void SqliteHistory::fix(const HistoryFix& f) {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lk(m.mu);
  auto it = m.people.find(f.person);
  if (it == m.people.end()) {
    it = m.people.emplace(f.person, PersonState{}).first;
    it->second.code = m.person_code(f.person);
  }
  PersonState& st = it->second;
  if (f.t_ms < st.last_t) {
    ++m.counters.out_of_order;
    return;
  }
  const std::int64_t b = floor_div(f.t_ms, m.opt.bucket_ms) * m.opt.bucket_ms;
  if (!st.has_open || b != st.open.start) {
    if (st.has_open && st.dirty) m.sealed.push_back(std::move(st.open));
    st.open = Bucket{st.code, b, {}};
    st.has_open = true;
    st.dirty = false;
    m.load_bucket(st.open);
    if (!st.open.points.empty() && f.t_ms < st.open.points.back().t_ms) {
      ++m.counters.out_of_order;
      st.last_t = st.open.points.back().t_ms;
      return;
    }
  }
  st.open.points.push_back({f.t_ms, f.x_cm, f.y_cm, f.z_cm, m.floor_code(f.floor)});
  st.dirty = true;
  st.last_t = f.t_ms;
  ++m.counters.fixes;
  m.note_time(f.t_ms);
  m.maybe_flush_locked();
}

void SqliteHistory::zone_entry(const HistoryZoneEntry& e) {
  std::lock_guard<std::mutex> lk(impl_->mu);
  Stmt s(impl_->db, "INSERT INTO zone_entry(t_ms, zone, category, count) VALUES(?,?,?,?)");
  s.bind(1, e.t_ms).bind(2, e.zone).bind(3, e.category).bind(4, e.count).step();
  impl_->note_time(e.t_ms);
}

void SqliteHistory::alarm(const HistoryAlarm& a) {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lk(m.mu);
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
  if (a.events.empty()) return;
  m.exec("SAVEPOINT alarm");
  Stmt s(m.db, "INSERT OR REPLACE INTO alarm(run, id, type, level, code, zone, permit, floor, who, x_cm, y_cm, status, raised_ms, "
               "acknowledged_ms, handled_ms, closed_ms, last_ms) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  s.bind(1, a.run).bind(2, a.id).bind(3, a.type).bind(4, a.level).bind(5, a.code).bind(6, a.zone).bind(7, a.permit).bind(8, a.floor);
  s.bind(9, who).bind(10, a.x_cm).bind(11, a.y_cm).bind(12, a.status).bind(13, raised);
  ack ? s.bind(14, *ack) : s.null(14);
  handled ? s.bind(15, *handled) : s.null(15);
  closed ? s.bind(16, *closed) : s.null(16);
  s.bind(17, last).step();
  Stmt del(m.db, "DELETE FROM alarm_event WHERE run=? AND alarm=?");
  del.bind(1, a.run).bind(2, a.id).step();
  Stmt ins(m.db, "INSERT INTO alarm_event(run, alarm, seq, t_ms, kind, level, by, note) VALUES(?,?,?,?,?,?,?,?)");
  for (size_t i = 0; i < a.events.size(); ++i) {
    const HistoryAlarmEvent& e = a.events[i];
    ins.reset();
    ins.bind(1, a.run).bind(2, a.id).bind(3, static_cast<std::int64_t>(i)).bind(4, e.t_ms).bind(5, e.kind).bind(6, e.level);
    ins.bind(7, e.by).bind(8, e.note).step();
  }
  m.exec("RELEASE alarm");
  m.note_time(last);
}

void SqliteHistory::permit(const HistoryPermit& p) {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lk(m.mu);
  std::int64_t first = INT64_MAX, last = INT64_MIN;
  for (const auto& [t, e] : p.events) first = std::min(first, t), last = std::max(last, t);
  if (p.events.empty()) first = last = 0;
  m.exec("SAVEPOINT permit");
  Stmt s(m.db, "INSERT OR REPLACE INTO permit(run, id, type, grade, status, first_ms, last_ms) VALUES(?,?,?,?,?,?,?)");
  s.bind(1, p.run).bind(2, p.id).bind(3, p.type).bind(4, p.grade).bind(5, p.status).bind(6, first).bind(7, last).step();
  Stmt del(m.db, "DELETE FROM permit_event WHERE run=? AND permit=?");
  del.bind(1, p.run).bind(2, p.id).step();
  Stmt ins(m.db, "INSERT INTO permit_event(run, permit, seq, t_ms, event) VALUES(?,?,?,?,?)");
  for (size_t i = 0; i < p.events.size(); ++i) {
    ins.reset();
    ins.bind(1, p.run).bind(2, p.id).bind(3, static_cast<std::int64_t>(i)).bind(4, p.events[i].first).bind(5, p.events[i].second).step();
  }
  m.exec("RELEASE permit");
  if (!p.events.empty()) m.note_time(last);
}

void SqliteHistory::flush() {
  std::lock_guard<std::mutex> lk(impl_->mu);
  impl_->flush_locked();
}

void SqliteHistory::checkpoint() {
  std::lock_guard<std::mutex> lk(impl_->mu);
  impl_->flush_locked();
  sqlite3_wal_checkpoint_v2(impl_->db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
}

void SqliteHistory::apply_retention() {
  std::lock_guard<std::mutex> lk(impl_->mu);
  impl_->flush_locked();
  impl_->exec("BEGIN");
  impl_->retention_done_ms = INT64_MIN;
  impl_->retention_locked();
  impl_->exec("COMMIT");
}

bool SqliteHistory::track(const std::string& person, std::int64_t from_ms, std::int64_t to_ms, std::vector<HistoryFix>& out,
                          std::string& error, TrackQueryStats* stats) {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lk(m.mu);
  m.flush_locked();
  Stmt q(m.db, "SELECT code FROM person WHERE id=?");
  q.bind(1, person);
  if (q.step() != SQLITE_ROW) return true;  // nobody by that id: an empty track
  const std::int64_t code = q.i64(0);
  // only the buckets that overlap [from, to]: sealed ones, then the open one (at most one per person)
  std::vector<TrackPoint> pts;
  std::map<int, std::string> floor_cache;
  int rows = 0;
  for (Stmt* r : {&m.range_track, &m.range_open}) {
    r->reset();
    r->bind(1, code).bind(2, floor_div(from_ms, m.opt.bucket_ms) * m.opt.bucket_ms).bind(3, to_ms);
    while (r->step() == SQLITE_ROW) {
      ++rows;
      pts.clear();
      const std::int64_t start = r->i64(0);
      if (!history::decode_track(start, r->blob_view(1), pts)) {
        error = "history: track bucket of " + person + " at " + std::to_string(start) + " ms is damaged or of an unknown format";
        r->reset();
        return false;
      }
      for (const TrackPoint& p : pts) {
        if (p.t_ms < from_ms || p.t_ms > to_ms) continue;
        auto fc = floor_cache.find(p.floor);
        if (fc == floor_cache.end()) fc = floor_cache.emplace(p.floor, m.floor_name(p.floor)).first;
        out.push_back({person, p.t_ms, p.x_cm, p.y_cm, p.z_cm, fc->second});
      }
    }
    r->reset();
  }
  // a reopened file can hold open buckets older than sealed ones only if a person was dropped
  // mid-bucket; keep time order in every case
  if (!std::is_sorted(out.begin(), out.end(), [](const HistoryFix& a, const HistoryFix& b) { return a.t_ms < b.t_ms; }))
    std::stable_sort(out.begin(), out.end(), [](const HistoryFix& a, const HistoryFix& b) { return a.t_ms < b.t_ms; });
  if (stats) stats->buckets_read = rows;
  return true;
}

bool SqliteHistory::stats(std::int64_t from_ms, std::int64_t to_ms, int utc_offset_min, HistoryStats& out, std::string& error) {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lk(m.mu);
  m.flush_locked();
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
  std::lock_guard<std::mutex> lk(impl_->mu);
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
