// The extension's stylesheet module: the views' own CSS (js/src/styles.css, also shipped with the
// anywidget bundle) and the extension's additions.
import "../../src/styles.css";
import "./lab.css";
