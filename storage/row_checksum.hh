// SPDX-License-Identifier: Apache-2.0
// The order-independent checksum CHECKSUM TABLE reports: one 64-bit hash per row, summed, so
// the same rows give the same value in any order and any file layout, and one changed value
// changes it.
#pragma once

#include "storage/column_batch.hh"

#include <cstdint>

namespace tv::storage {

/// Accumulates rows batch by batch. A row's hash chains XXH3-64 over its cells in column order
/// (a NULL hashes as a marker distinct from every value, a string with its length first), so
/// moving a value to another column or row changes the sum.
class row_checksum {
public:
    void add(const column_batch& batch);
    uint64_t value() const { return _sum; }
    uint64_t rows() const { return _rows; }

private:
    uint64_t _sum = 0;
    uint64_t _rows = 0;
};

}  // namespace tv::storage
