// Stand-in for hudson.model.Node: createPath gives a FilePath on the node (here: the local disk).
package hudson.model

import hudson.FilePath

class Node {
    static List<String> used = []   // the node names paths were made on
    String nodeName

    FilePath createPath(String absolutePath) {
        used << nodeName
        new FilePath(new File(absolutePath))
    }
}
