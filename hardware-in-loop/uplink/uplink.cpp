// The uplink: records -> outbox batches (loop thread) -> HTTP POSTs in batch order (sender thread).
//
// Exactly once by de-duplication. A batch's body and its sequence number are fixed when the batch
// is formed, in the same SQLite transaction that stores it. The sender posts the lowest unsent
// batch, and only that one, until it gets a 2xx; only then is the batch marked sent, and only then
// does the next one go. So a batch is never re-sent after its 2xx was stored, and a batch whose 2xx
// was lost (timeout, dropped connection, crash before the mark) goes again with the same
// Idempotency-Key and the same bytes: the receiver drops it by key.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <limits>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <thread>
#include <variant>

#include "hardware-in-loop/uplink/crypto.h"
#include "hardware-in-loop/uplink/http_client.h"
#include "hardware-in-loop/uplink/outbox.h"
#include "hardware-in-loop/uplink/records.h"
#include "hardware-in-loop/uplink/uplink.h"

namespace planttwin {

using uplink::Json;

namespace {

// a 4xx that will not change by sending the same bytes again; everything else is retried
bool permanent_rejection(int status) {
  return status >= 400 && status < 500 && status != 408 && status != 409 && status != 425 && status != 429;
}

std::string random_session() {
  std::random_device rd;
  char buf[24];
  std::snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
  return buf;
}

}  // namespace

struct Uplink::Impl {
  Site site;
  WallClock clock;
  UplinkOptions opt;
  LocalToCgcs2000 geo;
  uplink::HttpTarget target;
  std::unique_ptr<uplink::Outbox> writer;  // loop thread
  std::unique_ptr<uplink::Outbox> reader;  // sender thread
  uplink::RecordContext ctx;

  // loop thread state
  Micros next_position_due = std::numeric_limits<Micros>::min();
  std::int64_t samples_waiting = 0;
  // each person's latest sample record as written, and the last sample row written: the position
  // batch is formed from memory (no read of the sample rows on the loop thread)
  std::map<std::string, std::string> latest;
  std::int64_t last_sample_row = 0;
  std::map<std::string, uplink::LastFix> last;
  // fixes since the last tick: written in one transaction by tick() (or when this many wait)
  struct Fix {
    Micros t;
    std::string person, tag;
    double x, y, z;
    std::string floor;
  };
  std::vector<Fix> fixes;
  static constexpr size_t kMaxBufferedFixes = 10000;

  void write_fixes() {
    if (fixes.empty()) return;
    std::vector<uplink::Outbox::Sample> rows;
    rows.reserve(fixes.size());
    for (const Fix& f : fixes) {
      Json r = uplink::position_record(ctx, f.t, f.person, f.tag, f.x, f.y, f.z, f.floor);
      rows.push_back({f.t, f.person, r.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)});
    }
    fixes.clear();  // written or failed: a failed write is counted, not retried (positions are samples)
    last_sample_row = writer->add_samples(rows);
    samples_waiting += static_cast<std::int64_t>(rows.size());
    for (auto& r : rows) latest[r.person] = std::move(r.record);
  }
  std::map<std::string, Micros> gathering_first_seen;

  // Base data (AQ3 8.2: sent on change): every person and zone record compared with the one the
  // outbox last queued; new and changed ones go in one batch per kind (several past
  // max_batch_records), ids no longer present go as DELETED = 1. The batches and the remembered
  // records are written in one transaction.
  std::uint64_t queue_base_data() {
    std::uint64_t n = 0;
    auto one_kind = [&](const std::string& kind, const std::map<std::string, Json>& now) {
      const std::map<std::string, std::string> before = writer->base_records(kind);
      std::vector<Json> records;
      std::vector<uplink::Outbox::BaseRecord> remember;
      for (const auto& [id, rec] : now) {
        const std::string text = rec.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
        auto it = before.find(id);
        if (it != before.end() && it->second == text) continue;
        records.push_back(rec);
        remember.push_back({kind, id, text});
      }
      for (const auto& [id, text] : before) {
        if (now.count(id)) continue;
        Json gone = Json::parse(text, nullptr, false);
        if (gone.is_discarded()) gone = Json{{"ID", id}};
        gone["DELETED"] = 1;
        records.push_back(gone);
        remember.push_back({kind, id, ""});
      }
      if (records.empty()) return;
      std::vector<std::string> texts;
      texts.reserve(records.size());
      for (const Json& r : records) texts.push_back(r.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
      store_records(kind, 0, texts, 0, remember);
      n += records.size();
    };
    std::map<std::string, Json> persons, zones;
    for (const auto& [id, p] : opt.people) persons[id] = uplink::person_base_record(ctx, id, p);
    for (const Zone& z : site.zones) zones[z.id] = uplink::zone_base_record(ctx, z);
    one_kind("person", persons);
    one_kind("zone", zones);
    return n;
  }
  std::atomic<std::uint64_t> base_records{0};

  // sender
  std::unique_ptr<uplink::HttpClient> http;
  std::thread sender;
  mutable std::mutex mu;
  // wakes the sender (new batch, stop) and flush() waiters; waited on and notified through opt.clock
  std::condition_variable_any cv;
  bool stop = false, wake = false;
  std::string last_error;
  std::atomic<std::uint64_t> queued{0}, sent{0}, failed{0}, pending{0}, rejected{0}, positions{0}, store_errors{0}, duplicates{0}, skipped{0};

  Impl(const Site& s, WallClock c, UplinkOptions o)
      : site(s), clock(c), opt(std::move(o)), geo(site), ctx{site, clock, opt, geo, random_session()} {}

  // wakes flush() waiters; the empty lock orders the counter change before their predicate check
  void notify() {
    { std::lock_guard<std::mutex> lock(mu); }
    opt.clock->notify_all(cv);
  }

  void set_error(const std::string& e) {
    std::lock_guard<std::mutex> lock(mu);
    last_error = e;
  }

  std::string envelope(std::int64_t seq, const std::string& kind, Micros t, const std::string& records_array) const {
    Json j;
    j["batch_seq"] = seq;
    j["outbox_id"] = writer->id();
    j["idempotency_key"] = writer->id() + "-" + std::to_string(seq);
    j["kind"] = kind;
    j["COMPANY_CODE"] = opt.company_code;
    j["COMPANY_NAME"] = opt.company_name;
    j["PARK_CODE"] = opt.park_code;
    j["SITE_NAME"] = site.name;
    j["COORDINATE_SYSTEM"] = geo.valid() ? "CGCS2000" : "local";
    j["TIME_ZONE"] = uplink::utc_offset_text(clock.utc_offset_min);
    j["CREATE_TIME"] = uplink::platform_time(clock, t);
    std::string head = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    head.pop_back();  // the closing brace
    return head + ",\"records\":" + records_array + "}";
  }

  void store_batch(const std::string& kind, Micros t, const std::vector<Json>& records,
                   std::int64_t delete_samples_upto = 0) {
    std::vector<std::string> texts;
    texts.reserve(records.size());
    for (const Json& r : records) texts.push_back(r.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
    store_records(kind, t, texts, delete_samples_upto);
  }

  // Stores records as batches of at most opt.max_batch_records each (a platform refuses or resets
  // a request above its size limit, and the strict order would then hold every later batch back),
  // all in one transaction; base records are remembered with the part that carries them.
  void store_records(const std::string& kind, Micros t, const std::vector<std::string>& texts,
                     std::int64_t delete_samples_upto, const std::vector<uplink::Outbox::BaseRecord>& base = {}) {
    const std::size_t per = static_cast<std::size_t>(std::max(1, opt.max_batch_records));
    std::vector<int> counts;
    for (std::size_t from = 0; from < texts.size(); from += per) counts.push_back(static_cast<int>(std::min(per, texts.size() - from)));
    if (counts.empty()) counts.push_back(0);
    writer->add_batches(
        kind, t, counts,
        [&](std::size_t part, std::int64_t seq) {
          std::string array = "[";
          const std::size_t from = part * per, to = std::min(texts.size(), from + per);
          for (std::size_t k = from; k < to; ++k) {
            if (k > from) array += ",";
            array += texts[k];
          }
          array += "]";
          return envelope(seq, kind, t, array);
        },
        delete_samples_upto, base);
    queued += counts.size();
    pending += counts.size();
    {
      std::lock_guard<std::mutex> lock(mu);
      wake = true;
    }
    opt.clock->notify_all(cv);
  }

  // WAL checkpoints are the sender's job (the writer's are off): at most once a second, before waits
  std::optional<Clock::time_point> last_checkpoint;
  void maybe_checkpoint() {
    const Clock::time_point now = opt.clock->now();
    if (last_checkpoint && now - *last_checkpoint < std::chrono::seconds(1)) return;
    last_checkpoint = now;
    try {
      reader->checkpoint();
    } catch (const std::exception& e) {
      set_error(e.what());
    }
  }

  // waits up to d unless stopped (or woken, when wakeable); true when stopped
  bool wait(Micros d, bool wakeable) {
    maybe_checkpoint();
    std::unique_lock<std::mutex> lock(mu);
    opt.clock->wait_for(cv, lock, std::chrono::microseconds(d), [&] { return stop || (wakeable && wake); });
    if (wakeable) wake = false;
    return stop;
  }

  void run_sender() {
    Micros backoff = 0;
    std::uint64_t since_prune = 0;
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (stop) return;
      }
      std::optional<uplink::PendingBatch> b;
      try {
        b = reader->next_pending();
      } catch (const std::exception& e) {
        set_error(e.what());
        if (wait(opt.backoff_max, false)) return;
        continue;
      }
      if (!b) {
        notify();  // flush() waiters
        if (wait(opt.idle_poll, true)) return;
        continue;
      }
      const std::string key = reader->id() + "-" + std::to_string(b->seq);
      uplink::HttpResult r;
      if (opt.profile) {
        // the platform's request, made afresh for each attempt (a new timestamp, nonce and IV);
        // the plain batch under it, and its key, never change
        uplink::PlatformRequest req;
        std::string build_error;
        try {
          const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
          req = uplink::build_request(*opt.profile, opt.credentials, b->body, now_ms, uplink::crypto::to_hex(uplink::crypto::random_bytes(8)));
        } catch (const std::exception& e) {
          build_error = e.what();
        }
        try {
          if (!build_error.empty()) {  // the same batch would fail again: kept, not resent
            const std::string err = "batch " + std::to_string(b->seq) + ": profile " + opt.profile->name + ": " + build_error;
            set_error(err);
            reader->mark_rejected(b->seq, err);
            ++rejected;
            --pending;
            notify();
            continue;
          }
          if (req.path.empty()) {  // a kind this platform does not take
            reader->mark_sent(b->seq, "not sent: profile " + opt.profile->name + " has no path for " + req.kind);
            ++skipped;
            --pending;
            notify();
            continue;
          }
        } catch (const std::exception& e) {
          set_error(e.what());
          if (wait(opt.backoff_max, false)) return;
          continue;
        }
        std::string base = http->base_path();
        while (!base.empty() && base.back() == '/') base.pop_back();
        r = http->post(base + req.path, req.body, key, req.headers, opt.request_timeout);
      } else {
        r = http->post(b->body, key, opt.request_timeout);
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        if (stop) return;  // abandoned: the batch stays unsent and goes first next time
      }
      try {
        // the platform's own acknowledgement inside a 2xx (a profile with ack codes)
        std::optional<uplink::Ack> ack;
        if (opt.profile && r.answered && r.status >= 200 && r.status < 300) ack = uplink::read_ack(*opt.profile, r.body);
        const bool stored = r.answered && r.status >= 200 && r.status < 300 &&
                            (!ack || ack->outcome == uplink::Ack::Outcome::stored || ack->outcome == uplink::Ack::Outcome::duplicate);
        if (stored) {
          std::string platform_id;
          if (ack) {
            platform_id = ack->batch_id;
            if (ack->outcome == uplink::Ack::Outcome::duplicate) {
              ++duplicates;
              if (platform_id.empty()) platform_id = "duplicate " + ack->code;
            }
          } else {
            Json answer = Json::parse(r.body, nullptr, false);
            if (answer.is_object() && answer.contains("batch_id")) {
              const Json& id = answer["batch_id"];
              platform_id = id.is_string() ? id.get<std::string>() : id.dump();
            }
          }
          reader->mark_sent(b->seq, platform_id);
          ++sent;
          --pending;
          backoff = 0;
          set_error("");
          if (++since_prune >= 100) {
            since_prune = 0;
            reader->prune_sent(opt.keep_sent);
          }
          notify();
          continue;
        }
        if (ack) {
          std::string err = "batch " + std::to_string(b->seq) + ": platform code " + ack->code + (ack->message.empty() ? "" : ": " + ack->message);
          set_error(err);
          if (ack->outcome == uplink::Ack::Outcome::fatal) {
            reader->mark_rejected(b->seq, err);
            ++rejected;
            --pending;
            notify();
            continue;
          }
          ++failed;
          reader->mark_failed(b->seq, err);
          backoff = backoff == 0 ? opt.backoff_first : std::min(2 * backoff, opt.backoff_max);
          if (wait(backoff, false)) return;
          continue;
        }
        std::string err = r.answered ? "HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 200) : r.error;
        err = "batch " + std::to_string(b->seq) + ": " + err;
        set_error(err);
        if (r.answered && permanent_rejection(r.status)) {
          reader->mark_rejected(b->seq, err);
          ++rejected;
          --pending;
          notify();
          continue;
        }
        ++failed;
        reader->mark_failed(b->seq, err);
      } catch (const std::exception& e) {
        set_error(e.what());
      }
      backoff = backoff == 0 ? opt.backoff_first : std::min(2 * backoff, opt.backoff_max);
      if (wait(backoff, false)) return;
    }
  }
};

Uplink::Uplink(const Site& site, WallClock clock, UplinkOptions opt)
    : impl_(std::make_unique<Impl>(site, clock, std::move(opt))) {
  Impl& m = *impl_;
  if (!m.opt.clock) throw std::runtime_error("uplink: UplinkOptions::clock must not be null (leave the default for the real clock)");
  if (m.opt.position_every <= 0) throw std::runtime_error("uplink: position_every must be positive");
  if (m.opt.backoff_first <= 0 || m.opt.backoff_max < m.opt.backoff_first)
    throw std::runtime_error("uplink: back-off must satisfy 0 < backoff_first <= backoff_max");
  if (m.opt.request_timeout <= 0 || m.opt.idle_poll <= 0)
    throw std::runtime_error("uplink: request_timeout and idle_poll must be positive");
  if (m.opt.send) m.target = uplink::parse_http_url(m.opt.url);
  if (m.opt.profile && !m.opt.profile->cipher.empty()) (void)uplink::derive_key(*m.opt.profile, m.opt.credentials.app_secret);  // throws when unusable
  m.writer = std::make_unique<uplink::Outbox>(m.opt.outbox);
  m.reader = std::make_unique<uplink::Outbox>(m.opt.outbox);
  m.writer->set_autocheckpoint(!m.opt.send);
  m.pending = static_cast<std::uint64_t>(m.writer->count_pending());
  // samples an earlier run wrote but did not batch go into the first position batch
  for (auto& [person, record] : m.writer->latest_samples(m.last_sample_row)) m.latest[person] = std::move(record);
  m.samples_waiting = m.writer->count_samples();
  if (m.opt.base_data) m.base_records = m.queue_base_data();  // before anything else of this session
  if (m.opt.send) {
    m.http = std::make_unique<uplink::HttpClient>(m.target, uplink::HttpClientOptions{m.opt.ca_file, m.opt.headers});
    m.sender = std::thread([&m] { m.run_sender(); });
  }
}

Uplink::~Uplink() {
  Impl& m = *impl_;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    m.stop = true;
  }
  m.opt.clock->notify_all(m.cv);
  if (m.http) m.http->cancel();
  if (m.sender.joinable()) m.sender.join();
}

void Uplink::on_fix(Micros t, const std::string& person, const std::string& tag, double x, double y, double z,
                    const std::string& floor) {
  Impl& m = *impl_;
  m.last[person] = {x, y, floor};
  m.fixes.push_back({t, person, tag, x, y, z, floor});
  ++m.positions;
  if (m.fixes.size() >= Impl::kMaxBufferedFixes) {
    try {
      m.write_fixes();
    } catch (const std::exception& e) {
      ++m.store_errors;
      m.set_error(e.what());
    }
  }
}

void Uplink::tick(Micros t) {
  Impl& m = *impl_;
  try {
    m.write_fixes();
  } catch (const std::exception& e) {
    ++m.store_errors;
    m.set_error(e.what());
  }
  if (m.samples_waiting == 0) return;
  if (m.next_position_due == std::numeric_limits<Micros>::min()) m.next_position_due = t;
  if (t < m.next_position_due) return;
  try {
    if (!m.latest.empty()) {
      std::vector<std::string> texts;
      texts.reserve(m.latest.size());
      for (const auto& [person, record] : m.latest) texts.push_back(record);
      m.store_records("position", t, texts, m.last_sample_row);
    }
    m.latest.clear();
    m.samples_waiting = 0;
    // a fixed schedule (no drift): batches are position_every apart, give or take one tick
    m.next_position_due += m.opt.position_every;
    if (m.next_position_due <= t) m.next_position_due = t + m.opt.position_every;
  } catch (const std::exception& e) {
    ++m.store_errors;
    m.set_error(e.what());
  }
}

void Uplink::on_alarm(Micros t, const Alarm& a, const AlarmEvent& e) {
  Impl& m = *impl_;
  try {
    m.store_batch("alarm", t, uplink::alarm_records(m.ctx, t, a, e));
  } catch (const std::exception& ex) {
    ++m.store_errors;
    m.set_error(ex.what());
  }
}

void Uplink::on_gathering(Micros t, const GatheringOutput& g) {
  Impl& m = *impl_;
  auto it = m.gathering_first_seen.emplace(g.alarm_id, t).first;
  try {
    m.store_batch("gathering", t, {uplink::gathering_record(m.ctx, t, g, it->second, m.last)});
  } catch (const std::exception& ex) {
    ++m.store_errors;
    m.set_error(ex.what());
  }
}

void Uplink::on_permit(Micros t, const PermitRecord& p, const std::string& status) {
  Impl& m = *impl_;
  try {
    m.store_batch("permit", t, {uplink::permit_record(m.ctx, t, p, status)});
  } catch (const std::exception& ex) {
    ++m.store_errors;
    m.set_error(ex.what());
  }
}

void Uplink::on_output(const Engine& engine, const Output& out) {
  if (const auto* a = std::get_if<AlarmOutput>(&out.body)) {
    if (a->alarm < 0 || static_cast<size_t>(a->alarm) >= engine.alarms().size()) return;
    const Alarm& alarm = engine.alarms()[static_cast<size_t>(a->alarm)];
    if (a->event < 0 || static_cast<size_t>(a->event) >= alarm.events.size()) return;
    on_alarm(out.t, alarm, alarm.events[static_cast<size_t>(a->event)]);
  } else if (const auto* g = std::get_if<GatheringOutput>(&out.body)) {
    on_gathering(out.t, *g);
  } else if (const auto* st = std::get_if<StatusOutput>(&out.body)) {
    if (st->status == "reserved" || st->status == "approved" || st->status == "rejected") return;
    for (const PermitRecord& p : engine.permits())
      if (p.id == st->id) {
        on_permit(out.t, p, st->status);
        return;
      }
  }
}

Uplink::Stats Uplink::stats() const {
  const Impl& m = *impl_;
  Stats s;
  s.queued = m.queued;
  s.sent = m.sent;
  s.attempts_failed = m.failed;
  s.pending = m.pending;
  s.rejected = m.rejected;
  s.positions = m.positions;
  s.store_errors = m.store_errors;
  s.base_records = m.base_records;
  s.duplicates = m.duplicates;
  s.skipped = m.skipped;
  return s;
}

std::string Uplink::last_error() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->last_error;
}

bool Uplink::flush(Micros timeout) {
  Impl& m = *impl_;
  std::unique_lock<std::mutex> lock(m.mu);
  return m.opt.clock->wait_for(m.cv, lock, std::chrono::microseconds(timeout), [&] { return m.pending == 0 || m.stop; }) &&
         m.pending == 0;
}

}  // namespace planttwin
