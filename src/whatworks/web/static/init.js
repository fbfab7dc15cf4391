// Progressive enhancement: the GOV.UK Frontend components, where the browser supports them.
import { initAll } from "./build/govuk-frontend.min.js";

initAll();
