// Preloaded into the bench's app servers (see start-timings.ts).
import { logStartRequests } from "./start-timings.ts";

logStartRequests();
