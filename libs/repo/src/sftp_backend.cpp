#include <condition_variable>
#include <mutex>
#include <vector>

#include "anemone/repo/backend.hpp"
#include "temp_names.hpp"

namespace anemone::repo {

using core::Errc;
using core::fail;

namespace {

class SftpBackend final : public Backend {
public:
  SftpBackend(ssh::SshTarget target, std::string root, size_t connections)
      : m_target(std::move(target)), m_root(std::move(root)), m_max_sessions(connections == 0 ? 1 : connections) {
    while (m_root.size() > 1 && m_root.back() == '/') m_root.pop_back();
  }

  std::string location() const override { return fmt::format("sftp:{}{}", m_target.describe(), m_root); }

  core::Result<void> create_layout() override {
    return with_session([&](ssh::SftpSession& session) -> core::Result<void> {
      if (session.file_size(m_root + "/config")) return fail(Errc::already_exists, "a repository already exists at {}", location());
      TRY(session.make_directory(m_root));
      for (auto dir : {"keys", "data", "index", "snapshots", "locks", "tmp"}) TRY(session.make_directory(m_root + "/" + dir));
      for (int i = 0; i < 256; ++i) {
        uint8_t byte = static_cast<uint8_t>(i);
        TRY(session.make_directory(m_root + "/data/" + core::to_hex({&byte, 1})));
      }
      return {};
    });
  }

  core::Result<void> save(FileType type, const std::string& name, core::ByteView data) override {
    std::string final_path = TRY(path_for(type, name));
    return with_session([&](ssh::SftpSession& session) -> core::Result<void> {
      std::string temp = m_root + "/tmp/" + new_temp_name();
      TRY_CTX(session.write_new_file(temp, data), location());
      auto renamed = session.rename(temp, final_path);
      if (!renamed) {
        if (!session.broken()) (void)session.remove_file(temp);
        // SFTP reports an existing target as a generic failure: look, to say it precisely.
        if (!session.broken() && session.file_size(final_path))
          return fail(Errc::already_exists, "{}: {} already exists", location(), final_path);
        return tl::unexpected(renamed.error());
      }
      return {};
    });
  }

  core::Result<core::Bytes> load(FileType type, const std::string& name, uint64_t offset, uint64_t length) override {
    std::string path = TRY(path_for(type, name));
    return with_session([&](ssh::SftpSession& session) { return session.read_file(path, offset, length); });
  }

  core::Result<uint64_t> size(FileType type, const std::string& name) override {
    std::string path = TRY(path_for(type, name));
    return with_session([&](ssh::SftpSession& session) { return session.file_size(path); });
  }

  core::Result<void> remove(FileType type, const std::string& name) override {
    std::string path = TRY(path_for(type, name));
    return with_session([&](ssh::SftpSession& session) -> core::Result<void> {
      auto removed = session.remove_file(path);
      if (!removed && removed.error().code() != Errc::not_found) return removed;
      return {};
    });
  }

  core::Result<std::vector<FileInfo>> list(FileType type) override {
    return with_session([&](ssh::SftpSession& session) -> core::Result<std::vector<FileInfo>> {
      std::vector<FileInfo> out;
      if (type == FileType::config) {
        if (auto size = session.file_size(m_root + "/config")) out.push_back({"config", *size});
        else if (size.error().code() != Errc::not_found) return tl::unexpected(size.error());
        return out;
      }
      std::string dir = m_root + "/" + std::string(file_type_name(type));
      if (type == FileType::pack) {
        for (int i = 0; i < 256; ++i) {
          uint8_t byte = static_cast<uint8_t>(i);
          TRY(list_into(session, dir + "/" + core::to_hex({&byte, 1}), out));
        }
      } else {
        TRY(list_into(session, dir, out));
      }
      return out;
    });
  }

  core::Result<size_t> remove_leftovers(Leftovers which) override {
    return with_session([&](ssh::SftpSession& session) -> core::Result<size_t> {
      auto entries = session.list_directory(m_root + "/tmp");
      if (!entries) return entries.error().code() == Errc::not_found ? core::Result<size_t>(0) : tl::unexpected(entries.error());
      size_t removed = 0;
      for (const auto& entry : *entries) {
        if (!entry.regular) continue;
        if (which == Leftovers::all || temp_owner_is_dead(entry.name))
          if (session.remove_file(m_root + "/tmp/" + entry.name)) ++removed;
      }
      return removed;
    });
  }

private:
  core::Result<std::string> path_for(FileType type, const std::string& name) const {
    if (type == FileType::config) return m_root + "/config";
    if (!valid_file_name(name)) return fail(Errc::failed, "invalid repository file name '{}'", name);
    std::string dir = m_root + "/" + std::string(file_type_name(type));
    if (type == FileType::pack) dir += "/" + name.substr(0, 2);
    return dir + "/" + name;
  }

  static core::Result<void> list_into(ssh::SftpSession& session, const std::string& dir, std::vector<FileInfo>& out) {
    auto entries = session.list_directory(dir);
    if (!entries) return entries.error().code() == Errc::not_found ? core::Result<void>() : tl::unexpected(entries.error());
    for (const auto& entry : *entries)
      if (entry.regular && valid_file_name(entry.name)) out.push_back({entry.name, entry.size});
    return {};
  }

  // Runs `work` on an idle session, opening one when fewer than the limit exist.
  template <typename Work> auto with_session(Work&& work) -> decltype(work(std::declval<ssh::SftpSession&>())) {
    std::unique_ptr<ssh::SftpSession> session;
    {
      std::unique_lock lock(m_mutex);
      m_available.wait(lock, [this] { return !m_idle.empty() || m_open < m_max_sessions; });
      if (!m_idle.empty()) {
        session = std::move(m_idle.back());
        m_idle.pop_back();
      } else {
        ++m_open;
      }
    }
    if (!session) {
      auto connected = ssh::SftpSession::connect(m_target);
      if (!connected) {
        release(nullptr);
        return tl::unexpected(connected.error());
      }
      session = std::move(*connected);
    }
    auto result = work(*session);
    release(session->broken() ? nullptr : std::move(session));
    return result;
  }

  void release(std::unique_ptr<ssh::SftpSession> session) {
    {
      std::lock_guard lock(m_mutex);
      if (session) m_idle.push_back(std::move(session));
      else --m_open;
    }
    m_available.notify_one();
  }

  ssh::SshTarget m_target;
  std::string m_root;
  size_t m_max_sessions;
  std::mutex m_mutex;
  std::condition_variable m_available;
  std::vector<std::unique_ptr<ssh::SftpSession>> m_idle;
  size_t m_open = 0;
};

} // namespace

std::unique_ptr<Backend> make_sftp_backend(ssh::SshTarget target, std::string root, size_t connections) {
  return std::make_unique<SftpBackend>(std::move(target), std::move(root), connections);
}

} // namespace anemone::repo
