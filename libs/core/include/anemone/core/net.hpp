#pragma once
// Addresses as operators write them (config, invitation codes, command lines), parsed strictly:
// whatever passes here is safe to hand to `ip`, `wg` or a config file.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "anemone/core/error.hpp"

namespace anemone::core {

struct Ipv4 {
  uint32_t value = 0; // host byte order
  std::string str() const;
  bool operator==(const Ipv4&) const = default;
};
// Dotted quad, four decimal parts 0..255, no leading zeros (so "010.1.1.1" is not read as octal by anyone).
std::optional<Ipv4> parse_ipv4(std::string_view text);

struct Cidr {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{}; // v4 uses the first 4
  int prefix = 0;
  std::string str() const; // canonical text, host bits cleared
  bool operator==(const Cidr&) const = default;
};
// "10.8.0.0/16", "192.0.2.7/32", "2001:db8::/32"; host bits must be zero unless allow_host_bits.
Result<Cidr> parse_cidr(std::string_view text, bool allow_host_bits = false);

struct Ipv4Net {
  Ipv4 network;
  int prefix = 0;
  bool contains(Ipv4 address) const;
  // Inside, and neither the network nor the broadcast address.
  bool is_host(Ipv4 address) const;
  uint64_t size() const { return uint64_t{1} << (32 - prefix); }
  std::string str() const { return network.str() + "/" + std::to_string(prefix); }
};
Result<Ipv4Net> parse_ipv4_net(std::string_view text);

struct Endpoint {
  std::string host; // a DNS name, an IPv4 address, or an IPv6 address (without brackets)
  int port = 0;
  std::string str() const; // "host:port" or "[v6]:port"
};
// "site-a.example.org:51820", "192.0.2.1:51820", "[2001:db8::1]:51820".
Result<Endpoint> parse_endpoint(std::string_view text);

} // namespace anemone::core
