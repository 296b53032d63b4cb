// The filesystem spill (see SpillSegment*.swift).
