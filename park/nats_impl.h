// The park's use of the NATS C client (libnats): one connection, the JetStream context, the
// buckets. Internal to park/.
#pragma once
#include <nats/nats.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "park/park.h"

namespace planttwin::park {

struct Nats::Impl {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  kvStore *sites = nullptr, *leases = nullptr, *workers = nullptr, *ck = nullptr, *status = nullptr, *reports = nullptr;
  std::string url;
  ParkSettings settings;
  ~Impl();
};

std::string nats_error(natsStatus s);

// KV helpers: values as strings. get: nullopt when the key is absent (or deleted); rev filled.
std::optional<std::string> kv_get(kvStore* kv, const std::string& key, std::uint64_t* rev = nullptr);
bool kv_put(kvStore* kv, const std::string& key, const std::string& value, std::uint64_t* rev = nullptr);
// create when absent (lease taken); update when the entry is still at `last`. false otherwise.
bool kv_create(kvStore* kv, const std::string& key, const std::string& value, std::uint64_t* rev);
bool kv_update(kvStore* kv, const std::string& key, const std::string& value, std::uint64_t last, std::uint64_t* rev);
// Deletes a key by purging its subject from the bucket's stream: nothing is left of it, so
// kv_keys does not list it and kv_create takes it again.
bool kv_delete(jsCtx* js, kvStore* kv, const std::string& key);
// The keys that hold a value, from the bucket's stream information (subjects with messages),
// not from a watcher: a watcher is a one-replica consumer (see LogReader). Keys are removed by
// kv_delete or expire (TTL), so every listed subject holds a value. nullopt: the cluster did not
// answer within timeout_ms (not the same as "no keys").
std::optional<std::vector<std::string>> kv_keys(jsCtx* js, kvStore* kv, int timeout_ms = 2000);

// A read that tells an absent key from a cluster that does not answer (retried for `patience_ms`):
// a worker taking a site over must not mistake a timed-out read for "no checkpoint".
enum class KvRead { found, absent, unavailable };
KvRead kv_read(kvStore* kv, const std::string& key, std::string& value, std::uint64_t& rev, int patience_ms);

// A write fenced by revision that rides out a cluster electing a leader. `rev` is the revision
// the writer last saw (0: create). A request that times out may still have been applied, so on
// failure the entry is read back: holding `value` (or `unconfirmed`, this writer's previous write
// whose answer was lost) it is this writer's and `rev` moves to it; holding anything else, someone
// else wrote it (moved_on). While the entry cannot be read the write is retried for `patience_ms`;
// then `unconfirmed` keeps `value` for the next call and the answer is unavailable.
enum class KvWrite { ok, moved_on, unavailable };
KvWrite kv_write_fenced(kvStore* kv, const std::string& key, const std::string& value, std::uint64_t& rev,
                        std::string& unconfirmed, int patience_ms);
// A plain put retried for `patience_ms` (reports: the last write wins).
bool kv_put_patient(kvStore* kv, const std::string& key, const std::string& value, int patience_ms);

// A JetStream context of its own (per thread that publishes asynchronously): errors of
// asynchronous publishes are counted in `failed`.
struct JsContext {
  jsCtx* js = nullptr;
  std::atomic<std::uint64_t> failed{0};
  std::string last_error;
  bool open(natsConnection* nc, std::string& error);
  ~JsContext();
};

// Publishes one message with headers (name, value pairs) asynchronously.
bool publish_async(jsCtx* js, const std::string& subject, const std::string& data,
                   std::initializer_list<std::pair<const char*, std::string>> headers, std::string& error);
// Publishes one message and waits for JetStream's acknowledgement.
bool publish_sync(jsCtx* js, const std::string& subject, const std::string& data,
                  std::initializer_list<std::pair<const char*, std::string>> headers, std::string& error);
// Waits for every asynchronous publish of `js` to be acknowledged (bounded).
bool publish_complete(jsCtx* js, std::int64_t timeout_ms, std::string& error);

std::int64_t unix_ms_now();

// Reads one subject of a stream in order, from a stream sequence on, and goes on through a
// cluster's failures. It is not the client's ordered consumer: libnats always creates that one
// with one replica, and nats-server 2.9.10 (Debian 12) places a one-replica consumer on any peer
// of the stream, an offline one included (fixed upstream in 2.9.12, commit e15eb22ca), so after
// a node is lost a third of the creations never answer, and so do a third of the KV watchers.
// This consumer inherits the stream's replicas (a quorum answers) and does what the ordered one
// does: a gap in the consumer's sequence, a sequence mismatch reported by a heartbeat, or a
// consumer that is gone recreates it after the last message taken; a repeated message is
// dropped. One reader per thread.
class LogReader {
 public:
  LogReader(natsConnection* nc, std::string stream, std::string subject, std::uint64_t start_seq);
  ~LogReader();
  LogReader(const LogReader&) = delete;
  LogReader& operator=(const LogReader&) = delete;
  // Creates the consumer, trying again for `patience_ms`; false with the last error.
  bool open(int patience_ms, std::string& error);
  // The next message (the caller destroys it): NATS_OK, NATS_TIMEOUT when none came within
  // timeout_ms (the consumer is checked, and recreated if gone, after a quiet stretch), or a
  // connection error.
  natsStatus next(natsMsg** msg, std::int64_t timeout_ms);
  std::uint64_t last_seq() const { return last_sseq_; }  // stream sequence of the last message given
  int recreated() const { return recreated_; }

 private:
  bool subscribe(std::string& error);
  void drop();
  natsConnection* nc_;
  jsCtx* js_ = nullptr;
  std::string stream_, subject_;
  std::uint64_t last_sseq_, last_cseq_ = 0;
  natsSubscription* sub_ = nullptr;
  std::int64_t quiet_since_ms_ = 0;
  int replicas_ = 0;  // the stream's, read once
  int recreated_ = 0;
};

}  // namespace planttwin::park
