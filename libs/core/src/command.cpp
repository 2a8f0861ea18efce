#include "anemone/core/command.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/ranges.h>

#include "anemone/core/fs.hpp"

namespace anemone::core {

namespace {

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Result<Pipe> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail_errno("pipe", errno);
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

} // namespace

Result<CommandOutput> run_command(const std::vector<std::string>& argv, std::string_view input) {
  if (argv.empty()) return fail(Errc::failed, "run_command: no program");
  auto in = TRY(make_pipe());
  auto out = TRY(make_pipe());
  auto err = TRY(make_pipe());
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  pid_t child = ::fork();
  if (child < 0) return fail_errno("fork", errno);
  if (child == 0) {
    ::dup2(in.read.get(), 0);
    ::dup2(out.write.get(), 1);
    ::dup2(err.write.get(), 2);
    ::signal(SIGPIPE, SIG_DFL);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  in.read.reset();
  out.write.reset();
  err.write.reset();

  // Feed stdin and drain stdout and stderr together, so neither side blocks on a full pipe.
  CommandOutput result;
  size_t fed = 0;
  if (input.empty()) in.write.reset();
  else ::fcntl(in.write.get(), F_SETFL, O_NONBLOCK);
  while (out.read || err.read) {
    pollfd fds[3];
    int count = 0;
    auto watch = [&](UniqueFd& fd, short events) {
      if (fd) fds[count++] = {fd.get(), events, 0};
    };
    watch(out.read, POLLIN);
    watch(err.read, POLLIN);
    watch(in.write, POLLOUT);
    if (::poll(fds, static_cast<nfds_t>(count), -1) < 0) {
      if (errno == EINTR) continue;
      return fail_errno("poll", errno);
    }
    for (int i = 0; i < count; ++i) {
      if (!fds[i].revents) continue;
      if (in.write && fds[i].fd == in.write.get()) {
        ssize_t n = ::write(in.write.get(), input.data() + fed, input.size() - fed);
        if (n > 0) fed += static_cast<size_t>(n);
        if (n < 0 && errno != EAGAIN && errno != EINTR) in.write.reset();
        else if (fed == input.size()) in.write.reset();
        continue;
      }
      UniqueFd& source = out.read && fds[i].fd == out.read.get() ? out.read : err.read;
      std::string& sink = &source == &out.read ? result.out : result.err;
      char buffer[65536];
      ssize_t n = ::read(source.get(), buffer, sizeof buffer);
      if (n > 0) sink.append(buffer, static_cast<size_t>(n));
      else if (n == 0 || (errno != EINTR && errno != EAGAIN)) source.reset();
    }
  }
  in.write.reset();
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return fail_errno("wait for " + argv[0], errno);
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

Result<std::string> run_checked(const std::vector<std::string>& argv, std::string_view input) {
  auto result = TRY(run_command(argv, input));
  if (result.exit_code == 127 && result.err.empty())
    return fail(Errc::failed, "{}: not found or not executable (is it installed?)", argv[0]);
  if (result.exit_code != 0) {
    std::string detail = result.err.empty() ? result.out : result.err;
    while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) detail.pop_back();
    if (auto newline = detail.find('\n'); newline != std::string::npos) detail.resize(newline);
    std::vector<std::string> shown(argv.begin(), argv.begin() + std::min<size_t>(argv.size(), 4));
    return fail(Errc::failed, "{}{} failed (exit {}){}{}", fmt::join(shown, " "), argv.size() > 4 ? " …" : "",
                result.exit_code, detail.empty() ? "" : ": ", detail);
  }
  return std::move(result.out);
}

} // namespace anemone::core
