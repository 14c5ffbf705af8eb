// The plumbing of examples/benchmark.cpp, none of it about recurrent layers: a median timer, a
// plain cblas_sgemm call, child processes whose output and peak memory the parent reads, the
// CPU's name, and a table printed as aligned text or as markdown. Read benchmark.cpp first;
// this is its appendix.
#pragma once

#include <cblas.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

extern char** environ;

namespace bench {

// The median of `steps` timed calls of fn, after `warmup` untimed ones, in milliseconds.
template <class Fn>
double median_ms(Fn&& fn, int warmup, int steps) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> times;
  for (int i = 0; i < steps; ++i) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    const std::chrono::duration<double, std::milli> elapsed =
        std::chrono::steady_clock::now() - start;
    times.push_back(elapsed.count());
  }
  std::sort(times.begin(), times.end());
  const std::size_t mid = times.size() / 2;
  return times.size() % 2 == 1 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
}

// ---- Matrices ---------------------------------------------------------------------------------

// c (m×n) = op(a) · op(b), row-major contiguous, through cblas_sgemm. op(a) = aᵀ when a_t (a is
// stored k×m), op(b) = bᵀ when b_t (b is stored n×k).
inline void sgemm(bool a_t, bool b_t, std::int64_t m, std::int64_t n, std::int64_t k,
                  const float* a, const float* b, float* c) {
  cblas_sgemm(CblasRowMajor, a_t ? CblasTrans : CblasNoTrans, b_t ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.0F, a,
              static_cast<int>(a_t ? m : k), b, static_cast<int>(b_t ? k : n), 0.0F, c,
              static_cast<int>(n));
}

// size floats from U(−0.1, 0.1): values that stay far from overflow and denormals.
inline std::vector<float> random_buffer(std::int64_t size, std::mt19937& generator) {
  std::uniform_real_distribution<float> uniform(-0.1F, 0.1F);
  std::vector<float> buffer(static_cast<std::size_t>(size));
  for (float& v : buffer) v = uniform(generator);
  return buffer;
}

// ---- Child processes --------------------------------------------------------------------------

struct ProcessResult {
  bool ok = false;       // started, and exited with status 0
  std::string output;    // its stdout; its stderr goes where ours goes
  double peak_mb = 0.0;  // its peak resident memory, ru_maxrss from wait4
};

// Runs args[0] (a path) with the arguments after it, reads its stdout to the end and waits for
// it. Note: Linux carries the parent's high-water mark of resident memory into the child's
// ru_maxrss when the child calls exec, so the peak is only the child's own while the parent is
// the smaller of the two.
inline ProcessResult run_process(const std::vector<std::string>& args) {
  ProcessResult result;
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return result;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[1]);
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (spawned == 0) {
    char chunk[4096];
    for (ssize_t n; (n = read(pipe_fds[0], chunk, sizeof chunk)) > 0;)
      result.output.append(chunk, static_cast<std::size_t>(n));
    int status = 0;
    rusage usage{};
    if (wait4(pid, &status, 0, &usage) == pid) {
      result.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      result.peak_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB
    }
  }
  close(pipe_fds[0]);
  return result;
}

// The number right after `key` in a child's output, if there is one: "ms=" in benchmark.cpp's
// children, "\"ms\": " in the one-line JSON object of benchmark_torch.py (a flat object of
// strings and numbers, which is all this reader is for).
inline std::optional<double> number_after(const std::string& text, const std::string& key) {
  const std::size_t at = text.find(key);
  if (at == std::string::npos) return std::nullopt;
  const char* start = text.c_str() + at + key.size();
  char* end = nullptr;
  const double value = std::strtod(start, &end);
  if (end == start) return std::nullopt;
  return value;
}

// The text after `key` up to the next double quote: a string value of that JSON object.
inline std::string string_after(const std::string& text, const std::string& key) {
  const std::size_t at = text.find(key);
  if (at == std::string::npos) return "?";
  const std::size_t start = at + key.size(), end = text.find('"', start);
  return text.substr(start, end - start);
}

// The path of the running program, to start it again as a child.
inline std::string self_path() {
  std::vector<char> path(4096);
  const ssize_t n = readlink("/proc/self/exe", path.data(), path.size());
  return n > 0 ? std::string(path.data(), static_cast<std::size_t>(n)) : "";
}

// ---- The machine and the table ----------------------------------------------------------------

inline std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

// Columns a string takes on screen: one per UTF-8 character (continuation bytes take none).
inline std::size_t screen_width(const std::string& s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

// cells[0] is the header. Aligned text, or a markdown table; the first `left` columns are
// aligned left, the others right.
inline void print_table(const std::vector<std::vector<std::string>>& cells, std::size_t left,
                        bool markdown) {
  std::vector<std::size_t> widths(cells[0].size(), 0);
  for (const auto& row : cells)
    for (std::size_t c = 0; c < row.size(); ++c)
      widths[c] = std::max(widths[c], screen_width(row[c]));
  for (std::size_t r = 0; r < cells.size(); ++r) {
    std::string line = markdown ? "|" : "";
    for (std::size_t c = 0; c < cells[r].size(); ++c) {
      const std::string pad(widths[c] - screen_width(cells[r][c]), ' ');
      const std::string cell = c < left ? cells[r][c] + pad : pad + cells[r][c];
      line += markdown ? " " + cell + " |" : (c == 0 ? "" : "  ") + cell;
    }
    std::printf("%s\n", line.c_str());
    if (r == 0 && markdown) {  // the rule under the header: |:---|---:| says left or right
      std::string rule = "|";
      for (std::size_t c = 0; c < widths.size(); ++c) {
        const std::string dashes(widths[c] - 1, '-');
        rule += c < left ? " :" + dashes + " |" : " " + dashes + ": |";
      }
      std::printf("%s\n", rule.c_str());
    }
  }
}

}  // namespace bench
