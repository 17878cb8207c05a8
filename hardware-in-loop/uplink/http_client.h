// A small HTTP/1.1 client for the uplink's sender thread (Boost.Beast): one request at a time,
// keep-alive, a deadline per request, and cancel() from another thread.
#pragma once
#include <atomic>
#include <memory>
#include <string>

#include "engine/time.h"

namespace planttwin::uplink {

struct HttpTarget {
  std::string host, port, target;  // target: "/path?query", at least "/"
};
// http://host[:port][/path]; throws std::runtime_error for https or a malformed URL.
HttpTarget parse_http_url(const std::string& url);

struct HttpResult {
  bool answered = false;  // a complete response was read
  int status = 0;
  std::string body;
  std::string error;  // transport error when !answered
};

class HttpClient {
 public:
  explicit HttpClient(HttpTarget target);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // POSTs a JSON body with an Idempotency-Key header; blocks until answered, failed, timed out
  // or cancelled. A kept-alive connection that turns out dead is retried once on a new one.
  HttpResult post(const std::string& body, const std::string& idempotency_key, Micros timeout);
  // From any thread: the running post() returns at once with an error, later ones too.
  void cancel();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace planttwin::uplink
