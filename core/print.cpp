// Printing a tensor exactly as PyTorch 1.13's repr does; see print.h.
//
//   tensor([[ 0.1000, -2.0000],
//           [ 3.5000,  4.0000]], dtype=torch.float64, requires_grad=True)
//
// The rules are those of torch/_tensor_str.py with its default options, in four steps:
//   1. Which elements are shown. Above 1000 elements the tensor is summarized: along every
//      dimension longer than 6 only the first 3 and the last 3 entries are printed, with "..."
//      between them.
//   2. One style and one width for all shown elements (FloatStyle below): whole numbers print
//      as "3.", other values with 4 decimals, and scientific notation takes over when the
//      nonzero finite magnitudes span more than a factor 1000, exceed 1e8, or (for values that
//      are not all whole) go below 1e-4. Every element is right-aligned to the widest.
//   3. Brackets, nested one column deeper per dimension; rows wrap to stay within 80 columns,
//      and blocks of a 3-D tensor are separated by a blank line.
//   4. Suffixes: the size of an empty tensor, the dtype when it is not one PyTorch leaves
//      implicit (float32, int64 and bool are), and requires_grad=True or grad_fn=<...>.
// Read after the op files; nothing else depends on it.
#include "core/print.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/autograd.h"

namespace minigrad {

namespace {

// PyTorch's default print options (torch.set_printoptions).
constexpr int kPrecision = 4;              // digits after the decimal point
constexpr std::int64_t kThreshold = 1000;  // more elements than this are summarized
constexpr std::int64_t kEdgeItems = 3;     // entries kept at each end of a summarized dimension
constexpr std::int64_t kLineWidth = 80;    // columns
constexpr std::int64_t kEllipsis = -1;     // stands for "..." among the shown indices

// ---- 1. Which elements are shown ----------------------------------------------------------------

// The indices printed along a dimension of `size`: all of them, or when summarizing a long
// dimension the first and last kEdgeItems with kEllipsis between them.
std::vector<std::int64_t> shown_indices(std::int64_t size, bool summarize) {
  std::vector<std::int64_t> indices;
  const bool cut = summarize && size > 2 * kEdgeItems;
  for (std::int64_t i = 0; i < (cut ? kEdgeItems : size); ++i) indices.push_back(i);
  if (!cut) return indices;
  indices.push_back(kEllipsis);
  for (std::int64_t i = size - kEdgeItems; i < size; ++i) indices.push_back(i);
  return indices;
}

// Appends the shown elements of the sub-tensor at `dim` (its first element at `offset` in
// data) to `out`, in printing order: row-major, skipping the summarized middles.
template <class T>
void collect_shown(const T* data, const Shape& shape, const Shape& strides, std::size_t dim,
                   std::int64_t offset, bool summarize, std::vector<T>& out) {
  if (dim == shape.size()) {
    out.push_back(data[offset]);
    return;
  }
  for (std::int64_t i : shown_indices(shape[dim], summarize))
    if (i != kEllipsis)
      collect_shown(data, shape, strides, dim + 1, offset + i * strides[dim], summarize, out);
}

// ---- 2. One style and one width -----------------------------------------------------------------

// The text of every shown element, right-aligned to a common width, in printing order.
struct Cells {
  std::vector<std::string> text;
  std::int64_t width = 1;  // the width the alignment and the line wrapping count with
};

// How PyTorch writes the floating-point values of one tensor, chosen by looking at all of
// them; only nonzero finite values take part in the choice and in the width.
struct FloatStyle {
  bool whole = true;        // every value is a whole number: "3." instead of "3.0000"
  bool scientific = false;  // "1.2346e+05"
};

FloatStyle choose_style(const std::vector<double>& values) {
  FloatStyle style;
  double min = std::numeric_limits<double>::infinity(), max = 0;
  for (double v : values) {
    if (v == 0 || !std::isfinite(v)) continue;
    min = std::min(min, std::abs(v));
    max = std::max(max, std::abs(v));
    if (v != std::ceil(v)) style.whole = false;
  }
  if (max == 0) return style;  // no nonzero finite value: zeros, nan and inf print as "0.", "nan"
  style.scientific = max / min > 1000.0 || max > 1.0e8 || (!style.whole && min < 1.0e-4);
  return style;
}

// One value in `style`. Python writes nan without a sign, whatever the sign bit says.
std::string format_float(double v, const FloatStyle& style) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (style.scientific) return fmt::format("{:.{}e}", v, kPrecision);
  if (style.whole) return fmt::format("{:.0f}.", v);
  return fmt::format("{:.{}f}", v, kPrecision);
}

std::string pad_left(const std::string& text, std::int64_t width) {
  const auto length = static_cast<std::int64_t>(text.size());
  return length >= width ? text : std::string(static_cast<std::size_t>(width - length), ' ') + text;
}

Cells format_floats(const std::vector<double>& values) {
  const FloatStyle style = choose_style(values);
  Cells cells;
  // The width counts nonzero finite values only: a nan or inf among whole numbers may stick
  // out of the column, as in PyTorch.
  for (double v : values)
    if (v != 0 && std::isfinite(v))
      cells.width = std::max<std::int64_t>(cells.width, format_float(v, style).size());
  for (double v : values) cells.text.push_back(pad_left(format_float(v, style), cells.width));
  return cells;
}

// int64 values print as integers, bools as Python writes them.
template <class T>
Cells format_exact(const std::vector<T>& values) {
  Cells cells;
  for (T v : values) {
    if constexpr (std::is_same_v<T, bool>)
      cells.text.emplace_back(v ? "True" : "False");
    else
      cells.text.push_back(fmt::format("{}", v));
    cells.width = std::max<std::int64_t>(cells.width, cells.text.back().size());
  }
  for (std::string& text : cells.text) text = pad_left(text, cells.width);
  return cells;
}

Cells format_shown(const Tensor& t, bool summarize) {
  return dispatch(t.dtype(), [&]<class T>() {
    std::vector<T> shown;
    collect_shown(t.data_ptr<T>(), t.shape(), t.strides(), 0, 0, summarize, shown);
    if constexpr (std::is_floating_point_v<T>)
      return format_floats(std::vector<double>(shown.begin(), shown.end()));
    else
      return format_exact(shown);
  });
}

// ---- 3. Brackets --------------------------------------------------------------------------------

// The bracketed text of the sub-tensor at `dim`, whose "[" stands in column `indent`, taking
// its elements' texts from cells.text[next] onwards.
std::string nest(const Shape& shape, std::size_t dim, std::int64_t indent, bool summarize,
                 const Cells& cells, std::size_t& next) {
  const std::string newline_indent = "\n" + std::string(static_cast<std::size_t>(indent + 1), ' ');
  std::string out = "[";
  if (dim + 1 == shape.size()) {
    // A row: as many elements per line as fit in the columns right of the "[", counting
    // each as the common width plus ", "; the "..." of a summarized row counts as one.
    const std::int64_t per_line =
        std::max<std::int64_t>(1, (kLineWidth - indent) / (cells.width + 2));
    std::int64_t on_line = 0;
    for (std::int64_t i : shown_indices(shape[dim], summarize)) {
      if (on_line == per_line) {
        out += "," + newline_indent;
        on_line = 0;
      } else if (on_line > 0) {
        out += ", ";
      }
      out += i == kEllipsis ? " ..." : cells.text[next++];
      ++on_line;
    }
    return out + "]";
  }
  // A stack of sub-tensors, one per line, with a blank line between 2-D blocks, two between
  // 3-D blocks, and so on.
  const std::string separator = "," + std::string(shape.size() - dim - 2, '\n') + newline_indent;
  bool first = true;
  for (std::int64_t i : shown_indices(shape[dim], summarize)) {
    if (!first) out += separator;
    first = false;
    out += i == kEllipsis ? "..." : nest(shape, dim + 1, indent + 1, summarize, cells, next);
  }
  return out + "]";
}

// ---- 4. Suffixes --------------------------------------------------------------------------------

// Python's str() of a shape tuple: "(0, 3)".
std::string tuple_str(const Shape& shape) { return fmt::format("({})", fmt::join(shape, ", ")); }

// Appends ", suffix" for each suffix, moving one to a new line (indented to `indent`) when it
// would pass column 80, and closes the parenthesis.
std::string add_suffixes(std::string text, const std::vector<std::string>& suffixes,
                         std::int64_t indent) {
  // PyTorch measures the last line as two columns longer than it is; the same arithmetic
  // makes the lines break where PyTorch's do.
  const std::size_t newline = text.rfind('\n');
  std::int64_t last_line = static_cast<std::int64_t>(
      newline == std::string::npos ? text.size() + 2 : text.size() - newline + 1);
  for (const std::string& suffix : suffixes) {
    const auto length = static_cast<std::int64_t>(suffix.size());
    if (last_line + length + 2 > kLineWidth) {
      text += ",\n" + std::string(static_cast<std::size_t>(indent), ' ') + suffix;
      last_line = indent + length;
    } else {
      text += ", " + suffix;
      last_line += length + 2;
    }
  }
  return text + ")";
}

}  // namespace

std::string repr(const Tensor& t) {
  if (!t.defined()) return "[ Tensor (undefined) ]";  // what LibTorch prints
  const std::string prefix = "tensor(";
  const auto indent = static_cast<std::int64_t>(prefix.size());
  std::vector<std::string> suffixes;
  std::string body;
  if (t.numel() == 0) {
    // Nothing shows the shape or the dtype, so both are spelled out (the shape unless 1-D).
    if (t.dim() != 1) suffixes.push_back("size=" + tuple_str(t.shape()));
    if (t.dtype() != kFloat32) suffixes.push_back(fmt::format("dtype={}", dtype_repr(t.dtype())));
    body = "[]";
  } else {
    if (t.dtype() == kFloat64) suffixes.push_back(fmt::format("dtype={}", dtype_repr(t.dtype())));
    const bool summarize = t.numel() > kThreshold;
    const Cells cells = format_shown(t, summarize);
    std::size_t next = 0;
    body = t.dim() == 0 ? cells.text[0] : nest(t.shape(), 0, indent, summarize, cells, next);
  }
  if (t.grad_fn())
    suffixes.push_back(fmt::format("grad_fn=<{}>", t.grad_fn()->name()));
  else if (t.requires_grad())
    suffixes.emplace_back("requires_grad=True");
  return add_suffixes(prefix + body, suffixes, indent);
}

std::ostream& operator<<(std::ostream& out, const Tensor& t) { return out << repr(t); }

}  // namespace minigrad
