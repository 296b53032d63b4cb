import Foundation

/// Progress lines on stdout, written unbuffered so they appear at once even in a pipe or file
/// (a supervisor or test reading the output should not wait for a buffer to fill).
enum Console {
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
