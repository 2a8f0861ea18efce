// Trees and snapshots: every node type and any byte string as a name round-trip; names that could
// escape a restore are refused.
#include <string>

#include <catch2/catch.hpp>

#include "anemone/core/bytes.hpp"
#include "anemone/core/time.hpp"
#include "anemone/repo/tree.hpp"

using namespace anemone;
using core::Errc;

namespace {

repo::BlobId id_of(uint8_t fill) {
  repo::BlobId id;
  id.fill(fill);
  id[0] = static_cast<uint8_t>(fill ^ 0x5a);
  return id;
}

repo::Node base_node(std::string name, repo::NodeType type, uint8_t salt) {
  repo::Node node;
  node.name = std::move(name);
  node.type = type;
  node.mode = 0640u + salt;
  node.uid = 1000u + salt;
  node.gid = 2000u + salt;
  node.mtime_ns = 1700000000123456789 + salt;
  node.inode = 4000000000ull + salt;
  node.device = 0x10000ull + salt;
  return node;
}

void check_same(const repo::Node& a, const repo::Node& b) {
  INFO("node " << core::to_hex(core::as_bytes(a.name)));
  CHECK(a.name == b.name);
  CHECK(a.type == b.type);
  CHECK(a.mode == b.mode);
  CHECK(a.uid == b.uid);
  CHECK(a.gid == b.gid);
  CHECK(a.mtime_ns == b.mtime_ns);
  CHECK(a.size == b.size);
  CHECK(a.inode == b.inode);
  CHECK(a.device == b.device);
  CHECK(a.links == b.links);
  CHECK(a.rdev == b.rdev);
  CHECK(a.link_target == b.link_target);
  CHECK(a.content == b.content);
  CHECK(a.subtree == b.subtree);
}

core::Result<repo::Tree> parse_text(std::string_view json) { return repo::parse_tree(core::as_bytes(json)); }

std::string one_node(std::string_view name_field) {
  return "{\"nodes\":[{" + std::string(name_field) +
         ",\"type\":\"file\",\"mode\":420,\"uid\":0,\"gid\":0,\"mtime_ns\":0,\"size\":0,\"content\":[]}]}";
}

} // namespace

TEST_CASE("tree: every node type round-trips", "[repo][tree]") {
  repo::Tree tree;
  auto file = base_node("a-file.txt", repo::NodeType::file, 1);
  file.size = 3 * 1024 * 1024 + 5;
  file.content = {id_of(1), id_of(2), id_of(1)};
  file.links = 2;
  auto empty_file = base_node("b-empty", repo::NodeType::file, 2);
  auto dir = base_node("c-dir", repo::NodeType::dir, 3);
  dir.mode = 01777; // sticky
  dir.subtree = id_of(3);
  auto symlink = base_node("d-link", repo::NodeType::symlink, 4);
  symlink.link_target = "../somewhere/else";
  auto fifo = base_node("e-fifo", repo::NodeType::fifo, 5);
  auto chardev = base_node("f-chardev", repo::NodeType::chardev, 6);
  chardev.rdev = (1ull << 8) | 3; // /dev/null
  auto blockdev = base_node("g-blockdev", repo::NodeType::blockdev, 7);
  blockdev.rdev = (8ull << 8) | 1;
  auto setuid = base_node("h-setuid", repo::NodeType::file, 8);
  setuid.mode = 04755;
  setuid.content = {id_of(9)};
  setuid.size = 10;
  tree.nodes = {file, empty_file, dir, symlink, fifo, chardev, blockdev, setuid};

  auto body = repo::serialize_tree(tree);
  auto parsed = repo::parse_tree(body);
  REQUIRE(parsed);
  REQUIRE(parsed->nodes.size() == tree.nodes.size());
  for (size_t i = 0; i < tree.nodes.size(); ++i) check_same(tree.nodes[i], parsed->nodes[i]);
  // Serialization is deterministic: equal trees get equal ids (deduplication of unchanged dirs).
  CHECK(repo::serialize_tree(*parsed) == body);
}

TEST_CASE("tree: names and link targets are arbitrary bytes", "[repo][tree]") {
  repo::Tree tree;
  std::string invalid = "\xff\xfe";
  std::vector<std::string> names = {"new\nline", invalid, "caf\xc3\xa9",  "tab\tand space ", "\x01control",
                                    "trailing\xc3", "overlong\xc0\xaf", "surrogate\xed\xa0\x80", "\"quote\\"};
  uint8_t salt = 0;
  for (const auto& name : names) tree.nodes.push_back(base_node(name, repo::NodeType::file, ++salt));
  auto link = base_node("link-invalid", repo::NodeType::symlink, ++salt);
  link.link_target = "/target/\xff\xfe/x";
  tree.nodes.push_back(link);
  auto link_newline = base_node("link-newline", repo::NodeType::symlink, ++salt);
  link_newline.link_target = "a\nb";
  tree.nodes.push_back(link_newline);

  auto body = repo::serialize_tree(tree);
  auto text = std::string(core::as_chars(body));
  CHECK(text.find("name_hex") != std::string::npos);
  CHECK(text.find("target_hex") != std::string::npos);
  CHECK(text.find("\"caf\xc3\xa9\"") != std::string::npos); // valid UTF-8 stays readable

  auto parsed = repo::parse_tree(body);
  REQUIRE(parsed);
  REQUIRE(parsed->nodes.size() == tree.nodes.size());
  for (size_t i = 0; i < tree.nodes.size(); ++i) check_same(tree.nodes[i], parsed->nodes[i]);
}

TEST_CASE("tree: names that could escape a restore are refused", "[repo][tree]") {
  REQUIRE(parse_text(one_node("\"name\":\"ok\"")));
  for (std::string_view field : {"\"name\":\"\"", "\"name\":\".\"", "\"name\":\"..\"", "\"name\":\"a/b\"",
                                 "\"name\":\"/\"", "\"name\":\"../x\"", "\"name\":\"a\\u0000b\"",
                                 "\"name_hex\":\"2e2e\"", "\"name_hex\":\"612f62\"", "\"name_hex\":\"6100\"",
                                 "\"name_hex\":\"\"", "\"size\":1"}) {
    INFO(field);
    auto parsed = parse_text(one_node(field));
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code() == Errc::corrupt);
  }
  CHECK(repo::valid_node_name("a"));
  CHECK(repo::valid_node_name("\xff"));
  CHECK(repo::valid_node_name("..."));
  CHECK_FALSE(repo::valid_node_name(""));
  CHECK_FALSE(repo::valid_node_name("."));
  CHECK_FALSE(repo::valid_node_name(".."));
  CHECK_FALSE(repo::valid_node_name("a/b"));
  CHECK_FALSE(repo::valid_node_name(std::string_view("a\0b", 3)));
}

TEST_CASE("tree: duplicate names are refused", "[repo][tree]") {
  repo::Tree tree;
  tree.nodes = {base_node("same", repo::NodeType::file, 1), base_node("same", repo::NodeType::fifo, 2)};
  auto parsed = repo::parse_tree(repo::serialize_tree(tree));
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().code() == Errc::corrupt);

  SECTION("also when one is hex-encoded") {
    auto text = "{\"nodes\":[{\"name\":\"ab\",\"type\":\"fifo\",\"mode\":420,\"uid\":0,\"gid\":0,\"mtime_ns\":0},"
                "{\"name_hex\":\"6162\",\"type\":\"fifo\",\"mode\":420,\"uid\":0,\"gid\":0,\"mtime_ns\":0}]}";
    auto result = parse_text(text);
    REQUIRE_FALSE(result);
    CHECK(result.error().code() == Errc::corrupt);
  }
}

TEST_CASE("tree: malformed documents are corrupt, never an exception", "[repo][tree]") {
  for (std::string_view text :
       {"", "not json", "[]", "{}", "{\"nodes\":{}}", "{\"nodes\":[1]}", "{\"nodes\":[{\"name\":\"x\"}]}",
        "{\"nodes\":[{\"name\":\"x\",\"type\":\"socket\",\"mode\":0,\"uid\":0,\"gid\":0,\"mtime_ns\":0}]}",
        "{\"nodes\":[{\"name\":\"x\",\"type\":\"file\",\"mode\":\"rw\",\"uid\":0,\"gid\":0,\"mtime_ns\":0}]}",
        "{\"nodes\":[{\"name\":\"x\",\"type\":\"dir\",\"mode\":0,\"uid\":0,\"gid\":0,\"mtime_ns\":0}]}",
        "{\"nodes\":[{\"name\":\"x\",\"type\":\"file\",\"mode\":0,\"uid\":0,\"gid\":0,\"mtime_ns\":0,"
        "\"content\":[\"abc\"]}]}",
        "{\"nodes\":[{\"name\":5,\"type\":\"file\",\"mode\":0,\"uid\":0,\"gid\":0,\"mtime_ns\":0}]}",
        "{\"nodes\":[{\"name_hex\":\"zz\",\"type\":\"file\",\"mode\":0,\"uid\":0,\"gid\":0,\"mtime_ns\":0}]}"}) {
    INFO(text);
    auto parsed = parse_text(text);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code() == Errc::corrupt);
  }
}

TEST_CASE("snapshot: serialize and parse round-trip", "[repo][tree]") {
  repo::Snapshot snapshot;
  snapshot.id = "ignored-not-stored";
  auto time = core::parse_utc("2026-11-22T04:30:00.123456789Z");
  REQUIRE(time);
  snapshot.time_ns = *time;
  snapshot.host = "server-a";
  snapshot.hostname = "machine.example";
  snapshot.sources = {{"data", "/srv/data"}, {"etc", "/etc"}};
  snapshot.tree = id_of(42);
  snapshot.parent = "0123456789abcdef";
  snapshot.files = 12345;
  snapshot.dirs = 67;
  snapshot.bytes = 5ull << 40;

  auto body = repo::serialize_snapshot(snapshot);
  CHECK(std::string(core::as_chars(body)).find("ignored-not-stored") == std::string::npos);
  auto parsed = repo::parse_snapshot(body, "the-file-name");
  REQUIRE(parsed);
  CHECK(parsed->id == "the-file-name");
  CHECK(parsed->time_ns == snapshot.time_ns);
  CHECK(parsed->time_ns % 1000000000 == 123456789);
  CHECK(parsed->host == snapshot.host);
  CHECK(parsed->hostname == snapshot.hostname);
  REQUIRE(parsed->sources.size() == 2);
  CHECK(parsed->sources[0].name == "data");
  CHECK(parsed->sources[0].path == "/srv/data");
  CHECK(parsed->sources[1].name == "etc");
  CHECK(parsed->sources[1].path == "/etc");
  CHECK(parsed->tree == snapshot.tree);
  CHECK(parsed->parent == snapshot.parent);
  CHECK(parsed->files == snapshot.files);
  CHECK(parsed->dirs == snapshot.dirs);
  CHECK(parsed->bytes == snapshot.bytes);

  SECTION("without a parent") {
    snapshot.parent.reset();
    auto again = repo::parse_snapshot(repo::serialize_snapshot(snapshot), "x");
    REQUIRE(again);
    CHECK_FALSE(again->parent.has_value());
  }
  SECTION("a time with a single nanosecond") {
    snapshot.time_ns = 1000000000ll * 1700000000 + 1;
    auto again = repo::parse_snapshot(repo::serialize_snapshot(snapshot), "x");
    REQUIRE(again);
    CHECK(again->time_ns == snapshot.time_ns);
  }
  SECTION("an unknown version or a broken document is corrupt") {
    for (std::string_view text : {"{\"version\":2}", "{}", "[]", "garbage",
                                  "{\"version\":1,\"time\":\"yesterday\",\"host\":\"h\",\"sources\":[],"
                                  "\"tree\":\"00\",\"summary\":{}}",
                                  "{\"version\":1,\"host\":\"h\"}",
                                  "{\"version\":1,\"time\":\"2026-01-01T00:00:00Z\",\"host\":\"h\",\"sources\":[],"
                                  "\"tree\":\"00\",\"summary\":{}}"}) {
      INFO(text);
      auto result = repo::parse_snapshot(core::as_bytes(text), "x");
      REQUIRE_FALSE(result);
      CHECK(result.error().code() == Errc::corrupt);
    }
  }
}
