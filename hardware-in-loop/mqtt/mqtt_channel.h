// `planttwin live --mqtt mqtt://HOST:PORT --mqtt-profile NAME_OR_FILE` (docs/mqtt.md): subscribes to
// a broker with libmosquitto, turns each payload into live-v1 messages through the profile and
// hands them to the session (source "mqtt"); publishes every output as live-v1 JSON on
// planttwin/<scenario>/<topic> with QoS 1. A lost broker is reconnected with back-off (1 s doubling
// to 30 s) and the subscriptions renewed; the session never stops because of it.
#pragma once
#include <memory>
#include <string>

#include "hardware-in-loop/channel.h"
#include "hardware-in-loop/mqtt/profile.h"

namespace planttwin::hil {

struct MqttOptions {
  std::string url;      // mqtt://HOST[:PORT] (default port 1883) or mqtts://HOST[:PORT] (TLS, default 8883)
  std::string profile;  // bundled name or YAML file
  std::string client_id;  // "" : planttwin-<scenario>-<pid>
  int keepalive_s = 10;
  // Messages read off the broker and waiting for the session's loop (a client that floods faster
  // than the engine goes): at most this many, and this many bytes of payload. A message that would
  // go over either is dropped, counted per MQTT message as `overloaded` in the source's stats
  // (dropped_by_reason), and the session says so on stderr once. 0: no limit of that kind.
  std::size_t max_queued = 100000;
  std::size_t max_queued_bytes = 64u << 20;
  // TLS (mqtts:// only; docs/mqtt.md, "Security"). The broker's certificate must chain to a CA of
  // `ca_file` (PEM), or of the system's store (/etc/ssl/certs) when it is empty, and name the URL's
  // host; nothing turns that check off.
  std::string ca_file;
  std::string cert_file, key_file;  // a client certificate and its key (PEM), both or neither
  // Login: the user name, and the file whose first line is the password (never on the command
  // line, where `ps` shows it). A broker that refuses the login is named on stderr and retried.
  std::string username, password_file;
};

// false with `error` (exit 2) when the URL or the profile is bad.
std::shared_ptr<Channel> make_mqtt_channel(const Scenario& sc, const MqttOptions& o, std::string& error);

}  // namespace planttwin::hil
