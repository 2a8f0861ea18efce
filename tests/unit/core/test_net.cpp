// Address parsing: what passes is safe to hand to ip, wg or a config file.
#include <catch2/catch.hpp>

#include "anemone/core/net.hpp"

using namespace anemone;

TEST_CASE("net: IPv4 addresses parse strictly", "[core][net]") {
  CHECK(core::parse_ipv4("192.0.2.7")->str() == "192.0.2.7");
  CHECK(core::parse_ipv4("0.0.0.0")->value == 0);
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4 ", "a.b.c.d", "1..2.3", "-1.2.3.4"})
    CHECK_FALSE(core::parse_ipv4(bad));
}

TEST_CASE("net: CIDR blocks, v4 and v6, host bits refused with a suggestion", "[core][net]") {
  CHECK(core::parse_cidr("198.18.0.0/15")->str() == "198.18.0.0/15");
  CHECK(core::parse_cidr("2001:db8::/32")->str() == "2001:db8::/32");
  auto host_bits = core::parse_cidr("192.0.2.7/24");
  REQUIRE_FALSE(host_bits);
  CHECK(host_bits.error().message().find("did you mean 192.0.2.0/24?") != std::string::npos);
  CHECK(core::parse_cidr("192.0.2.7/24", true)->str() == "192.0.2.0/24");
  for (const char* bad : {"192.0.2.0", "192.0.2.0/33", "192.0.2.0/-1", "x/8", "2001:db8::/129", "192.0.2.0/08", "192.0.2.0/"})
    CHECK_FALSE(core::parse_cidr(bad));
  auto net = core::parse_ipv4_net("10.8.0.0/16");
  REQUIRE(net);
  CHECK(net->contains(*core::parse_ipv4("10.8.255.1")));
  CHECK_FALSE(net->contains(*core::parse_ipv4("10.9.0.1")));
  CHECK(net->size() == 65536);
  CHECK(net->is_host(*core::parse_ipv4("10.8.0.1")));
  CHECK_FALSE(net->is_host(*core::parse_ipv4("10.8.0.0")));   // network
  CHECK_FALSE(net->is_host(*core::parse_ipv4("10.8.255.255"))); // broadcast
  CHECK_FALSE(net->is_host(*core::parse_ipv4("10.9.0.1")));
}

TEST_CASE("net: endpoints name a DNS host or an address and a port", "[core][net]") {
  CHECK(core::parse_endpoint("site-a.example.org:51820")->str() == "site-a.example.org:51820");
  CHECK(core::parse_endpoint("192.0.2.1:1")->port == 1);
  CHECK(core::parse_endpoint("[2001:db8::1]:51820")->str() == "[2001:db8::1]:51820");
  for (const char* bad : {"host", "host:0", "host:65536", "-host:1", "ho st:1", "host;rm -rf:1", "1.2.3.999:5",
                          "[2001:db8::1]", "[nonsense]:1", ":51820", "a..b:1"})
    CHECK_FALSE(core::parse_endpoint(bad));
}
