// Stand-in for hudson.FilePath over a local file, with real permissions.
package hudson

import java.nio.file.Files
import java.nio.file.attribute.PosixFilePermissions

class FilePath {
    final File file

    FilePath(File file) { this.file = file }

    FilePath child(String name) { new FilePath(new File(file, name)) }

    void mkdirs() {
        if (!file.isDirectory() && !file.mkdirs()) {
            throw new IOException("cannot create ${file}")
        }
    }

    void chmod(int mask) {
        String rwx = ''
        for (int shift = 6; shift >= 0; shift -= 3) {
            int bits = (mask >> shift) & 7
            rwx += ((bits & 4) ? 'r' : '-') + ((bits & 2) ? 'w' : '-') + ((bits & 1) ? 'x' : '-')
        }
        Files.setPosixFilePermissions(file.toPath(), PosixFilePermissions.fromString(rwx))
    }

    void write(String content, String encoding) { file.setText(content, encoding) }

    void deleteRecursive() {
        if (file.exists() && !file.deleteDir()) {
            throw new IOException("cannot delete ${file}")
        }
    }

    String getRemote() { file.path }
}
