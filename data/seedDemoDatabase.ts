/**
 * The demo database's rows: a deterministic seed for data/schema.sql (same rows every call, no network).
 *
 * Algorithm:
 * 1. One PRNG (mulberry32, seed 20240601) drives every random choice, consumed in a fixed order, so the
 *    output depends only on this file. Money is computed in integer cents (no float drift) and printed
 *    with two decimals; dates are UTC day numbers printed as 'YYYY-MM-DD'.
 * 2. Fixed reference data is written by hand: 4 companies (USD, EUR, GBP, USD), 12 departments,
 *    40 customers, 25 vendors, a 43-account chart of accounts with parents, 48 monthly fiscal periods
 *    (2022–2025; periods ending before 2025-07-01 are closed). "Today" for the data is 2025-09-30.
 * 3. Generated data, in this order: 240 employees (employee 1 is the CEO, 2–13 head one department each
 *    and report to the CEO, the rest report to their department head or a team lead of their
 *    department); 72 projects PRJ-1001…PRJ-1072 covering every status (budgets 10,000–5,000,000, 8 NULL,
 *    10 internal projects without a customer); assignments; invoices (every status) and payments;
 *    vendor bills (every status); budgets per project/expense account/year; weekly timesheets.
 * 4. Journal entries derive from the documents: an AR entry per non-draft, non-void invoice (Dr 1100 /
 *    Cr revenue), one per payment (Dr 1010 / Cr 1100), an AP entry per non-void bill (Dr expense /
 *    Cr 2000) and per paid bill (Dr 2000 / Cr 1010), a monthly payroll entry per company (salary lines
 *    charged to projects), monthly rent and depreciation. Every posted entry balances exactly. Entries
 *    dated in open periods are posted with probability 0.7; a handful of unposted manual drafts are
 *    deliberately unbalanced (they must never count in financial totals).
 * 5. Rows are emitted as multi-row INSERT statements (≤ 500 rows each), parents before children.
 *
 * Keep names and ids stable: the demo dataset's gold SQL uses literal values from these rows. Bump
 * SEED_VERSION whenever the output changes (it keys the cached demo database).
 */
import { mulberry32 } from "../runtime/mulberry32.js";

/** Bump when the seed's output changes. */
export const SEED_VERSION = "2025.11.1";

/** The demo database's tables (data/schema.sql), in creation order. */
export const DEMO_TABLES: readonly string[] = [
  "companies",
  "departments",
  "employees",
  "customers",
  "projects",
  "project_assignments",
  "gl_accounts",
  "fiscal_periods",
  "journal_entries",
  "journal_lines",
  "invoices",
  "payments",
  "vendors",
  "vendor_bills",
  "budgets",
  "timesheets",
];

// ─── PRNG and formatting ──────────────────────────────────────────────────────────────────────────

type Value = string | number | boolean | null | SqlDate | Cents;

/** A date as days since 1970-01-01 (UTC). */
class SqlDate {
  constructor(readonly day: number) {}
  toString(): string {
    return new Date(this.day * 86_400_000).toISOString().slice(0, 10);
  }
}

/** An amount of money in integer cents. */
class Cents {
  constructor(readonly cents: number) {}
  toString(): string {
    const sign = this.cents < 0 ? "-" : "";
    const abs = Math.abs(this.cents);
    return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
  }
}

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** k distinct items (k ≤ items.length), in random order. */
  sample<T>(items: readonly T[], k: number): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy.slice(0, k);
  }
}

const day = (iso: string): SqlDate => new SqlDate(Math.round(Date.parse(`${iso}T00:00:00Z`) / 86_400_000));
const addDays = (d: SqlDate, n: number): SqlDate => new SqlDate(d.day + n);
const yearOf = (d: SqlDate): number => new Date(d.day * 86_400_000).getUTCFullYear();
const monthOf = (d: SqlDate): number => new Date(d.day * 86_400_000).getUTCMonth() + 1;
const weekday = (d: SqlDate): number => new Date(d.day * 86_400_000).getUTCDay();
const monthStart = (year: number, month: number): SqlDate => new SqlDate(Date.UTC(year, month - 1, 1) / 86_400_000);
const monthEnd = (year: number, month: number): SqlDate => new SqlDate(Date.UTC(year, month, 0) / 86_400_000);

function literal(value: Value): string {
  if (value === null) return "NULL";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return String(value);
  if (value instanceof Cents) return value.toString();
  if (value instanceof SqlDate) return `'${value.toString()}'`;
  return `'${value.replaceAll("'", "''")}'`;
}

function insertStatements(table: string, columns: string[], rows: Value[][]): string {
  const out: string[] = [];
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500).map((r) => `(${r.map(literal).join(", ")})`);
    out.push(`INSERT INTO ${table} (${columns.join(", ")}) VALUES\n${chunk.join(",\n")};`);
  }
  return out.join("\n");
}

// ─── Fixed reference data ─────────────────────────────────────────────────────────────────────────

/** The data's "today": documents after it do not exist; periods ending before 2025-07-01 are closed. */
const TODAY = day("2025-09-30");
const FIRST_DAY = day("2022-01-01");
const CLOSED_BEFORE = day("2025-07-01");

const COMPANIES: [number, string, string, string][] = [
  [1, "Meridian Holdings Inc.", "United States", "USD"],
  [2, "Meridian Europe GmbH", "Germany", "EUR"],
  [3, "Meridian UK Ltd", "United Kingdom", "GBP"],
  [4, "Meridian Advisory LLC", "United States", "USD"],
];

/** [department_id, company_id, name, kind] — kind picks employee titles. */
const DEPARTMENTS: [number, number, string, "eng" | "fin" | "sales" | "hr" | "cons"][] = [
  [1, 1, "Engineering", "eng"],
  [2, 1, "Finance", "fin"],
  [3, 1, "Sales", "sales"],
  [4, 1, "Human Resources", "hr"],
  [5, 1, "Consulting", "cons"],
  [6, 2, "Engineering", "eng"],
  [7, 2, "Finance", "fin"],
  [8, 2, "Consulting", "cons"],
  [9, 3, "Consulting", "cons"],
  [10, 3, "Finance", "fin"],
  [11, 3, "Sales", "sales"],
  [12, 4, "Consulting", "cons"],
];

/** Departments that run projects. */
const PROJECT_DEPARTMENTS = [1, 5, 6, 8, 9, 12];

const TITLES: Record<string, { head: string; lead: string; staff: [string, number, number][] }> = {
  eng: {
    head: "VP of Engineering",
    lead: "Engineering Manager",
    staff: [
      ["Software Engineer", 85_000, 130_000],
      ["Senior Software Engineer", 120_000, 175_000],
      ["QA Engineer", 70_000, 105_000],
      ["Data Engineer", 95_000, 150_000],
    ],
  },
  fin: {
    head: "Chief Financial Officer",
    lead: "Controller",
    staff: [
      ["Accountant", 55_000, 85_000],
      ["Senior Accountant", 75_000, 110_000],
      ["Financial Analyst", 65_000, 100_000],
    ],
  },
  sales: {
    head: "Head of Sales",
    lead: "Sales Manager",
    staff: [
      ["Account Executive", 60_000, 110_000],
      ["Sales Representative", 45_000, 75_000],
    ],
  },
  hr: {
    head: "Head of People",
    lead: "HR Manager",
    staff: [
      ["HR Specialist", 50_000, 80_000],
      ["Recruiter", 50_000, 85_000],
    ],
  },
  cons: {
    head: "Managing Director",
    lead: "Engagement Manager",
    staff: [
      ["Consultant", 70_000, 110_000],
      ["Senior Consultant", 100_000, 150_000],
      ["Business Analyst", 60_000, 95_000],
    ],
  },
};

const FIRST_NAMES = [
  "James",
  "Mary",
  "Robert",
  "Patricia",
  "John",
  "Jennifer",
  "Michael",
  "Linda",
  "David",
  "Elizabeth",
  "William",
  "Barbara",
  "Richard",
  "Susan",
  "Joseph",
  "Jessica",
  "Thomas",
  "Sarah",
  "Charles",
  "Karen",
  "Daniel",
  "Lisa",
  "Matthew",
  "Nancy",
  "Anthony",
  "Sandra",
  "Mark",
  "Ashley",
  "Steven",
  "Emily",
  "Paul",
  "Michelle",
  "Andrew",
  "Laura",
  "Lukas",
  "Anna",
  "Felix",
  "Sophie",
  "Jonas",
  "Lena",
  "Oliver",
  "Amelia",
  "Harry",
  "Isla",
  "George",
  "Olivia",
  "Noah",
  "Emma",
  "Liam",
  "Chloe",
  "Priya",
  "Arjun",
  "Wei",
  "Mei",
  "Carlos",
  "Lucia",
  "Mateo",
  "Sofia",
  "Omar",
  "Fatima",
];

const LAST_NAMES = [
  "Smith",
  "Johnson",
  "Williams",
  "Brown",
  "Jones",
  "Garcia",
  "Miller",
  "Davis",
  "Rodriguez",
  "Martinez",
  "Hernandez",
  "Lopez",
  "Wilson",
  "Anderson",
  "Thomas",
  "Taylor",
  "Moore",
  "Jackson",
  "Martin",
  "Lee",
  "Thompson",
  "White",
  "Harris",
  "Clark",
  "Lewis",
  "Walker",
  "Young",
  "Allen",
  "King",
  "Wright",
  "Müller",
  "Schmidt",
  "Schneider",
  "Fischer",
  "Weber",
  "Meyer",
  "Wagner",
  "Becker",
  "Hoffmann",
  "Koch",
  "Evans",
  "Roberts",
  "Hughes",
  "Edwards",
  "Patel",
  "Singh",
  "Chen",
  "Wang",
  "Nguyen",
  "Kim",
  "O'Brien",
  "Murphy",
  "Kelly",
  "Walsh",
  "Bennett",
  "Foster",
  "Hayes",
  "Price",
  "Reed",
  "Cooper",
];

/** [name, industry, country] — 40 customers, unique names. */
const CUSTOMERS: [string, string, string][] = [
  ["Acme Logistics", "Logistics", "United States"],
  ["Bluewater Shipping", "Logistics", "United Kingdom"],
  ["Cedar Health Partners", "Healthcare", "United States"],
  ["Northgate Hospital Group", "Healthcare", "United Kingdom"],
  ["Helios Energy", "Energy", "Germany"],
  ["Summit Power & Light", "Energy", "United States"],
  ["Pioneer Bank", "Financial Services", "United States"],
  ["Alpenland Versicherung", "Insurance", "Germany"],
  ["Crescent Insurance", "Insurance", "United Kingdom"],
  ["Orion Retail Group", "Retail", "United States"],
  ["Lindqvist Home", "Retail", "Sweden"],
  ["Vista Foods", "Food & Beverage", "United States"],
  ["Rheinland Brauerei", "Food & Beverage", "Germany"],
  ["Granite Construction Co.", "Construction", "United States"],
  ["Baumeister Bau AG", "Construction", "Germany"],
  ["Atlas Manufacturing", "Manufacturing", "United States"],
  ["Keller Maschinenbau", "Manufacturing", "Germany"],
  ["Sterling Automotive", "Automotive", "United Kingdom"],
  ["Falcon Aerospace", "Aerospace", "United States"],
  ["Nimbus Software", "Technology", "United States"],
  ["Quantum Data Systems", "Technology", "United States"],
  ["Pixelwerk Studios", "Media", "Germany"],
  ["Harbor Media", "Media", "United Kingdom"],
  ["Evergreen University", "Education", "United States"],
  ["Kingsbridge College", "Education", "United Kingdom"],
  ["City of Riverton", "Public Sector", "United States"],
  ["Westshire County Council", "Public Sector", "United Kingdom"],
  ["Silverline Telecom", "Telecommunications", "United Kingdom"],
  ["Telco Nord", "Telecommunications", "Germany"],
  ["Redwood Pharmaceuticals", "Pharmaceuticals", "United States"],
  ["Basel BioLabs", "Pharmaceuticals", "Switzerland"],
  ["Oakmont Hotels", "Hospitality", "United States"],
  ["Seaside Resorts", "Hospitality", "Spain"],
  ["Greenfield Agriculture", "Agriculture", "United States"],
  ["Polaris Mining", "Mining", "Canada"],
  ["Maple Leaf Rail", "Transportation", "Canada"],
  ["Lumen Architects", "Professional Services", "United Kingdom"],
  ["Brightway Legal LLP", "Professional Services", "United Kingdom"],
  ["Santos Imports", "Wholesale", "Brazil"],
  ["Tokai Electronics", "Electronics", "Japan"],
];

/** [name, category, country, payment_terms_days] — 25 vendors. */
const VENDORS: [string, string, string, number][] = [
  ["Amazon Web Services", "Cloud Hosting", "United States", 30],
  ["Microsoft Ireland", "Software", "Ireland", 30],
  ["Atlassian", "Software", "Australia", 30],
  ["Salesforce", "Software", "United States", 45],
  ["Dell Technologies", "Hardware", "United States", 30],
  ["Lenovo", "Hardware", "China", 45],
  ["CodeCraft Contractors", "Subcontracting", "United States", 30],
  ["Nordic Dev Partners", "Subcontracting", "Sweden", 45],
  ["Berlin Data Crew", "Subcontracting", "Germany", 30],
  ["London Analytics Ltd", "Subcontracting", "United Kingdom", 30],
  ["Staples Business", "Office Supplies", "United States", 15],
  ["Viking Office", "Office Supplies", "United Kingdom", 15],
  ["Regus Workspace", "Facilities", "United Kingdom", 30],
  ["Metro Property Management", "Facilities", "United States", 15],
  ["Hausverwaltung Schulz", "Facilities", "Germany", 15],
  ["Delta Air Lines", "Travel", "United States", 15],
  ["Lufthansa", "Travel", "Germany", 15],
  ["Marriott Hotels", "Travel", "United States", 15],
  ["Deloitte Audit", "Professional Services", "United States", 60],
  ["KPMG Tax", "Professional Services", "Germany", 60],
  ["Clifford & Partners", "Legal", "United Kingdom", 60],
  ["Con Edison", "Utilities", "United States", 15],
  ["Vattenfall", "Utilities", "Germany", 15],
  ["Coursera for Business", "Training", "United States", 30],
  ["Google Ads", "Marketing", "United States", 30],
];

/** Vendor category → the expense account number its bills post to. */
const CATEGORY_ACCOUNT: Record<string, string> = {
  "Cloud Hosting": "6200",
  Software: "6200",
  Hardware: "1510",
  Subcontracting: "5200",
  "Office Supplies": "6300",
  Facilities: "6000",
  Travel: "6100",
  "Professional Services": "6400",
  Legal: "6400",
  Utilities: "6700",
  Training: "6900",
  Marketing: "6500",
};

/** [account_number, name, type, parent number | null, is_active] — the chart of accounts. */
const ACCOUNTS: [string, string, "asset" | "liability" | "equity" | "revenue" | "expense", string | null, boolean][] = [
  ["1000", "Cash", "asset", null, true],
  ["1010", "Operating Bank Account", "asset", "1000", true],
  ["1020", "Payroll Bank Account", "asset", "1000", true],
  ["1030", "Petty Cash", "asset", "1000", false],
  ["1100", "Accounts Receivable", "asset", null, true],
  ["1150", "Allowance for Doubtful Accounts", "asset", "1100", true],
  ["1200", "Work in Progress", "asset", null, true],
  ["1300", "Prepaid Expenses", "asset", null, true],
  ["1500", "Fixed Assets", "asset", null, true],
  ["1510", "Computer Equipment", "asset", "1500", true],
  ["1520", "Office Furniture", "asset", "1500", true],
  ["1590", "Accumulated Depreciation", "asset", "1500", true],
  ["2000", "Accounts Payable", "liability", null, true],
  ["2100", "Accrued Liabilities", "liability", null, true],
  ["2110", "Accrued Payroll", "liability", "2100", true],
  ["2200", "Sales Tax Payable", "liability", null, true],
  ["2300", "Deferred Revenue", "liability", null, true],
  ["2500", "Long-term Debt", "liability", null, true],
  ["3000", "Share Capital", "equity", null, true],
  ["3100", "Retained Earnings", "equity", null, true],
  ["4000", "Revenue", "revenue", null, true],
  ["4010", "Consulting Revenue", "revenue", "4000", true],
  ["4020", "Software License Revenue", "revenue", "4000", true],
  ["4030", "Support and Maintenance Revenue", "revenue", "4000", true],
  ["4900", "Other Income", "revenue", null, true],
  ["5000", "Salaries", "expense", null, true],
  ["5010", "Salaries - Billable Staff", "expense", "5000", true],
  ["5020", "Salaries - Administrative", "expense", "5000", true],
  ["5100", "Payroll Taxes and Benefits", "expense", "5000", true],
  ["5200", "Subcontractors", "expense", null, true],
  ["6000", "Rent", "expense", null, true],
  ["6100", "Travel", "expense", null, true],
  ["6200", "Software Subscriptions", "expense", null, true],
  ["6300", "Office Supplies", "expense", null, true],
  ["6400", "Professional Fees", "expense", null, true],
  ["6500", "Marketing", "expense", null, true],
  ["6600", "Depreciation Expense", "expense", null, true],
  ["6700", "Utilities", "expense", null, true],
  ["6800", "Bank Fees", "expense", null, true],
  ["6900", "Training", "expense", null, true],
  ["6950", "Legacy Consulting Costs", "expense", null, false],
  ["7000", "Interest Expense", "expense", null, true],
  ["7100", "Income Tax Expense", "expense", null, true],
];

const PROJECT_KINDS = [
  "ERP Migration",
  "Data Warehouse",
  "Cloud Migration",
  "Customer Portal",
  "Mobile App",
  "Security Audit",
  "CRM Rollout",
  "Analytics Dashboard",
  "Process Automation",
  "Payment Integration",
  "Supply Chain Optimisation",
  "Compliance Review",
  "Network Upgrade",
  "E-commerce Platform",
  "Machine Learning Pilot",
  "Finance Transformation",
];

const INTERNAL_PROJECTS = [
  "Internal Tools Upgrade",
  "Office Relocation",
  "Website Redesign",
  "Employee Onboarding Portal",
  "Knowledge Base",
  "Sales Enablement",
  "Cost Reduction Programme",
  "IT Infrastructure Refresh",
  "Data Governance",
  "Brand Refresh",
];

const PROJECT_STATUSES = ["planned", "active", "on_hold", "completed", "cancelled"] as const;

// ─── The generator ────────────────────────────────────────────────────────────────────────────────

interface Employee {
  id: number;
  departmentId: number;
  companyId: number;
  managerId: number | null;
  salary: number;
  hire: SqlDate;
  status: "active" | "on_leave" | "terminated";
  billable: boolean;
}

interface Project {
  id: number;
  companyId: number;
  customerId: number | null;
  departmentId: number;
  status: (typeof PROJECT_STATUSES)[number];
  budget: number | null;
  start: SqlDate;
  end: SqlDate | null;
}

interface Line {
  account: string;
  projectId: number | null;
  debit: number;
  credit: number;
  memo: string | null;
}

/** The seed as SQL: INSERT statements for every table of data/schema.sql (run after the schema). */
export function seedDemoDatabase(): string {
  const rng = new Rng(20240601);
  const sections: string[] = [];
  const companyOfDepartment = new Map(DEPARTMENTS.map(([id, company]) => [id, company]));
  const accountId = new Map(ACCOUNTS.map(([number], i) => [number, i + 1]));
  const acct = (number: string): number => accountId.get(number)!;

  sections.push(insertStatements("companies", ["company_id", "name", "country", "currency"], COMPANIES));
  sections.push(
    insertStatements(
      "departments",
      ["department_id", "company_id", "name"],
      DEPARTMENTS.map(([id, c, n]) => [id, c, n]),
    ),
  );

  // Employees: 1 CEO, 12 department heads, then staff; leads are the first 2 staff of bigger departments.
  const employees: Employee[] = [];
  const employeeRows: Value[][] = [];
  const emails = new Set<string>();
  const departmentLeads = new Map<number, number[]>();
  const addEmployee = (
    departmentId: number,
    managerId: number | null,
    title: string,
    lo: number,
    hi: number,
    hire: SqlDate,
    billable: boolean,
  ): Employee => {
    const id = employees.length + 1;
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    const base = `${first}.${last}`.toLowerCase().replaceAll("'", "").replaceAll("ü", "ue");
    let email = `${base}@meridian.example`;
    for (let k = 2; emails.has(email); k++) email = `${base}${k}@meridian.example`;
    emails.add(email);
    const salary = Math.round(rng.int(lo, hi) / 500) * 500;
    const roll = rng.float();
    const status = id <= 13 ? "active" : roll < 0.84 ? "active" : roll < 0.92 ? "on_leave" : "terminated";
    const employee: Employee = {
      id,
      departmentId,
      companyId: companyOfDepartment.get(departmentId)!,
      managerId,
      salary,
      hire,
      status,
      billable,
    };
    employees.push(employee);
    employeeRows.push([id, first, last, email, title, departmentId, managerId, new Cents(salary * 100), hire, status]);
    return employee;
  };
  const randomHire = (from: string, to: string): SqlDate => new SqlDate(rng.int(day(from).day, day(to).day));
  addEmployee(2, null, "Chief Executive Officer", 280_000, 320_000, day("2012-03-01"), false);
  for (const [departmentId, , , kind] of DEPARTMENTS) {
    addEmployee(departmentId, 1, TITLES[kind]!.head, 160_000, 240_000, randomHire("2012-06-01", "2019-12-31"), false);
  }
  const headOf = (departmentId: number): number => departmentId + 1;
  const staffPerDepartment = [34, 14, 16, 8, 30, 26, 10, 20, 22, 8, 12, 27]; // 227 staff + 13 = 240
  DEPARTMENTS.forEach(([departmentId, , , kind], index) => {
    const titles = TITLES[kind]!;
    const leads: number[] = [];
    const billable = kind === "eng" || kind === "cons";
    const n = staffPerDepartment[index]!;
    const nLeads = n >= 20 ? 2 : 1;
    for (let i = 0; i < nLeads; i++) {
      leads.push(
        addEmployee(
          departmentId,
          headOf(departmentId),
          titles.lead,
          110_000,
          160_000,
          randomHire("2014-01-01", "2021-12-31"),
          billable,
        ).id,
      );
    }
    departmentLeads.set(departmentId, leads);
    for (let i = nLeads; i < n; i++) {
      const [title, lo, hi] = rng.pick(titles.staff);
      addEmployee(departmentId, rng.pick(leads), title, lo, hi, randomHire("2015-01-01", "2025-06-30"), billable);
    }
  });
  sections.push(
    insertStatements(
      "employees",
      [
        "employee_id",
        "first_name",
        "last_name",
        "email",
        "title",
        "department_id",
        "manager_id",
        "salary",
        "hire_date",
        "status",
      ],
      employeeRows,
    ),
  );

  sections.push(
    insertStatements(
      "customers",
      ["customer_id", "name", "industry", "country", "credit_limit"],
      CUSTOMERS.map(([name, industry, country], i) => [
        i + 1,
        name,
        industry,
        country,
        new Cents(rng.int(5, 200) * 2_500_000),
      ]),
    ),
  );

  // Projects: statuses cycle so every one is present; budgets log-uniform in [10k, 5M].
  const projects: Project[] = [];
  const projectRows: Value[][] = [];
  const statusPlan = [
    "active",
    "completed",
    "active",
    "planned",
    "completed",
    "on_hold",
    "active",
    "cancelled",
    "completed",
  ] as const;
  for (let i = 0; i < 72; i++) {
    const id = i + 1;
    const internal = i % 7 === 3 && projects.filter((p) => p.customerId === null).length < INTERNAL_PROJECTS.length;
    const departmentId = PROJECT_DEPARTMENTS[i % PROJECT_DEPARTMENTS.length]!;
    const companyId = companyOfDepartment.get(departmentId)!;
    const status = statusPlan[i % statusPlan.length]!;
    const customerId = internal ? null : rng.int(1, CUSTOMERS.length);
    let budget: number | null =
      Math.round(Math.exp(Math.log(10_000) + rng.float() * (Math.log(5_000_000) - Math.log(10_000))) / 1000) * 1000;
    if (id === 5) budget = 10_000;
    if (id === 17) budget = 5_000_000;
    if ((status === "planned" && i % 2 === 1) || id === 15 || id === 52) budget = null;
    let start: SqlDate;
    let end: SqlDate | null;
    if (status === "planned") {
      start = new SqlDate(rng.int(day("2025-10-01").day, day("2026-03-31").day));
      end = rng.chance(0.6) ? addDays(start, rng.int(90, 540)) : null;
    } else if (status === "completed") {
      start = new SqlDate(rng.int(day("2022-01-03").day, day("2024-09-30").day));
      end = new SqlDate(Math.min(start.day + rng.int(90, 540), TODAY.day - 15));
    } else if (status === "cancelled") {
      start = new SqlDate(rng.int(day("2022-02-01").day, day("2025-03-31").day));
      end = new SqlDate(Math.min(start.day + rng.int(30, 200), TODAY.day - 5));
    } else {
      start = new SqlDate(rng.int(day("2022-06-01").day, day("2025-06-30").day));
      end = rng.chance(0.7) ? new SqlDate(Math.max(start.day + rng.int(180, 900), TODAY.day + 30)) : null;
    }
    const name =
      customerId === null
        ? INTERNAL_PROJECTS[projects.filter((p) => p.customerId === null).length]!
        : `${CUSTOMERS[customerId - 1]![0]} ${PROJECT_KINDS[rng.int(0, PROJECT_KINDS.length - 1)]}`;
    const candidates = departmentLeads.get(departmentId)!;
    const managerId = status === "planned" && i % 4 === 3 ? null : rng.pick(candidates);
    projects.push({ id, companyId, customerId, departmentId, status, budget, start, end });
    projectRows.push([
      id,
      `PRJ-${1000 + id}`,
      name,
      customerId,
      departmentId,
      managerId,
      status,
      budget === null ? null : new Cents(budget * 100),
      start,
      end,
    ]);
  }
  sections.push(
    insertStatements(
      "projects",
      [
        "project_id",
        "project_code",
        "name",
        "customer_id",
        "department_id",
        "manager_id",
        "status",
        "budget",
        "start_date",
        "end_date",
      ],
      projectRows,
    ),
  );

  // Assignments: the project manager plus 3–7 billable staff of the same company.
  const assignments: { projectId: number; employeeId: number }[] = [];
  const assignmentRows: Value[][] = [];
  const roles = ["Developer", "Analyst", "Consultant", "Architect", "QA Lead", "Data Engineer"];
  for (const [p, row] of projects.map((p, i) => [p, projectRows[i]!] as const)) {
    const pool = employees.filter(
      (e) => e.companyId === p.companyId && e.billable && e.id > 13 && e.status !== "terminated",
    );
    const manager = row[5] as number | null;
    const chosen = rng
      .sample(
        pool.filter((e) => e.id !== manager),
        rng.int(3, 7),
      )
      .map((e) => e.id);
    const members = manager === null ? chosen : [manager, ...chosen];
    for (const employeeId of members) {
      const role = employeeId === manager ? "Project Manager" : rng.pick(roles);
      assignments.push({ projectId: p.id, employeeId });
      assignmentRows.push([p.id, employeeId, role, rng.int(2, 20) * 5]);
    }
  }
  sections.push(
    insertStatements("project_assignments", ["project_id", "employee_id", "role", "allocation_pct"], assignmentRows),
  );

  sections.push(
    insertStatements(
      "gl_accounts",
      ["account_id", "account_number", "name", "account_type", "parent_account_id", "is_active"],
      ACCOUNTS.map(([number, name, type, parent, active], i) => [
        i + 1,
        number,
        name,
        type,
        parent === null ? null : acct(parent),
        active,
      ]),
    ),
  );

  const periodRows: Value[][] = [];
  for (let year = 2022; year <= 2025; year++) {
    for (let month = 1; month <= 12; month++) {
      const end = monthEnd(year, month);
      periodRows.push([
        (year - 2022) * 12 + month,
        year,
        month,
        monthStart(year, month),
        end,
        end.day < CLOSED_BEFORE.day,
      ]);
    }
  }
  sections.push(
    insertStatements(
      "fiscal_periods",
      ["period_id", "fiscal_year", "period_number", "start_date", "end_date", "is_closed"],
      periodRows,
    ),
  );
  const periodOf = (d: SqlDate): number => (yearOf(d) - 2022) * 12 + monthOf(d);

  // Journal entries accumulate as documents are generated.
  const entryRows: Value[][] = [];
  const lineRows: Value[][] = [];
  const addEntry = (
    companyId: number,
    date: SqlDate,
    description: string,
    source: "manual" | "ap" | "ar" | "payroll",
    lines: Line[],
    forcePosted?: boolean,
  ): void => {
    const id = entryRows.length + 1;
    const posted = forcePosted ?? (date.day < CLOSED_BEFORE.day || rng.chance(0.7));
    entryRows.push([id, companyId, periodOf(date), date, description, source, posted]);
    for (const line of lines) {
      lineRows.push([
        lineRows.length + 1,
        id,
        acct(line.account),
        line.projectId,
        new Cents(line.debit),
        new Cents(line.credit),
        line.memo,
      ]);
    }
  };

  // Invoices and payments.
  const invoiceRows: Value[][] = [];
  const paymentRows: Value[][] = [];
  const invoiceSeq = new Map<number, number>();
  const methods = ["bank_transfer", "bank_transfer", "bank_transfer", "card", "check", "cash"] as const;
  const revenueAccounts = ["4010", "4010", "4010", "4020", "4030"];
  const billed = projects.filter((p) => p.customerId !== null && p.status !== "planned");
  for (const p of billed) {
    const last = new SqlDate(
      Math.min(p.end?.day ?? TODAY.day, TODAY.day, p.status === "on_hold" ? p.start.day + 240 : Infinity),
    );
    const monthly = Math.max(2_000_00, Math.round(((p.budget ?? 200_000) * 100) / 24 / 100) * 100);
    for (let d = addDays(p.start, 30); d.day <= last.day; d = addDays(d, rng.int(28, 62))) {
      const year = yearOf(d);
      const seq = (invoiceSeq.get(year) ?? 0) + 1;
      invoiceSeq.set(year, seq);
      const id = invoiceRows.length + 1;
      const amount = Math.round(monthly * (0.6 + rng.float() * 0.8));
      const due = addDays(d, rng.pick([15, 30, 30, 45, 60]));
      const age = TODAY.day - d.day;
      let status: "draft" | "sent" | "paid" | "overdue" | "void";
      if (rng.chance(0.03)) status = "void";
      else if (age < 40 && rng.chance(0.35)) status = "draft";
      else if (due.day >= TODAY.day) status = rng.chance(0.2) ? "paid" : "sent";
      else status = rng.chance(0.88) ? "paid" : "overdue";
      invoiceRows.push([
        id,
        `INV-${year}-${String(seq).padStart(4, "0")}`,
        p.customerId,
        p.id,
        d,
        due,
        new Cents(amount),
        status,
      ]);
      if (status === "draft" || status === "void") continue;
      const revenue = rng.pick(revenueAccounts);
      addEntry(p.companyId, d, `Invoice INV-${year}-${String(seq).padStart(4, "0")}`, "ar", [
        { account: "1100", projectId: p.id, debit: amount, credit: 0, memo: "Customer invoice" },
        { account: revenue, projectId: p.id, debit: 0, credit: amount, memo: "Project revenue" },
      ]);
      const pays: number[] =
        status === "paid"
          ? rng.chance(0.2)
            ? (() => {
                const first = Math.round(amount * (0.3 + rng.float() * 0.4));
                return [first, amount - first];
              })()
            : [amount]
          : status === "overdue" && rng.chance(0.4)
            ? [Math.round(amount * (0.2 + rng.float() * 0.5))]
            : [];
      let payDay = addDays(d, rng.int(10, 50));
      for (const paid of pays) {
        if (payDay.day > TODAY.day) payDay = TODAY;
        paymentRows.push([paymentRows.length + 1, id, payDay, new Cents(paid), rng.pick(methods)]);
        addEntry(p.companyId, payDay, `Payment for INV-${year}-${String(seq).padStart(4, "0")}`, "ar", [
          { account: "1010", projectId: null, debit: paid, credit: 0, memo: "Customer payment" },
          { account: "1100", projectId: p.id, debit: 0, credit: paid, memo: "Customer payment" },
        ]);
        payDay = addDays(payDay, rng.int(7, 30));
      }
    }
  }

  // Vendor bills.
  const billRows: Value[][] = [];
  const activeProjectsAt = (companyId: number, d: SqlDate): Project[] =>
    projects.filter(
      (p) =>
        p.companyId === companyId &&
        p.status !== "planned" &&
        p.start.day <= d.day &&
        (p.end === null || p.end.day >= d.day),
    );
  for (let n = 0; n < 420; n++) {
    const vendorIndex = rng.int(0, VENDORS.length - 1);
    const [vendorName, category, , terms] = VENDORS[vendorIndex]!;
    const companyId = rng.pick([1, 1, 1, 2, 2, 3, 3, 4]);
    const d = new SqlDate(rng.int(FIRST_DAY.day, TODAY.day));
    const candidates = activeProjectsAt(companyId, d);
    const projectId =
      (category === "Subcontracting" || category === "Travel" || category === "Hardware") && candidates.length > 0
        ? rng.pick(candidates).id
        : null;
    const amount =
      category === "Subcontracting"
        ? rng.int(5_000, 80_000) * 100 + rng.int(0, 99)
        : rng.int(150, 12_000) * 100 + rng.int(0, 99);
    const due = addDays(d, terms);
    let status: "open" | "paid" | "overdue" | "void";
    if (rng.chance(0.03)) status = "void";
    else if (due.day >= TODAY.day) status = rng.chance(0.4) ? "paid" : "open";
    else status = rng.chance(0.9) ? "paid" : "overdue";
    const billNumber = `BILL-${String(70_001 + n)}`;
    billRows.push([n + 1, billNumber, vendorIndex + 1, projectId, d, due, new Cents(amount), status]);
    if (status === "void") continue;
    addEntry(companyId, d, `${vendorName} bill ${billNumber}`, "ap", [
      { account: CATEGORY_ACCOUNT[category]!, projectId, debit: amount, credit: 0, memo: category },
      { account: "2000", projectId: null, debit: 0, credit: amount, memo: vendorName },
    ]);
    if (status === "paid") {
      const paidOn = new SqlDate(Math.min(due.day - rng.int(0, 10), TODAY.day));
      addEntry(companyId, paidOn, `Payment to ${vendorName} for ${billNumber}`, "ap", [
        { account: "2000", projectId: null, debit: amount, credit: 0, memo: vendorName },
        { account: "1010", projectId: null, debit: 0, credit: amount, memo: "Vendor payment" },
      ]);
    }
  }

  // Monthly payroll, rent and depreciation per company; a few unbalanced manual drafts at the end.
  const rentCents: Record<number, number> = { 1: 42_000_00, 2: 18_500_00, 3: 21_750_00, 4: 9_800_00 };
  const depreciationCents: Record<number, number> = { 1: 6_250_00, 2: 2_900_00, 3: 3_100_00, 4: 1_200_00 };
  for (let year = 2022; year <= 2025; year++) {
    for (let month = 1; month <= (year === 2025 ? 9 : 12); month++) {
      const end = monthEnd(year, month);
      for (const [companyId] of COMPANIES) {
        const staff = employees.filter(
          (e) =>
            e.companyId === companyId &&
            e.hire.day <= end.day &&
            (e.status !== "terminated" || e.id % 3 !== 0 || year < 2024),
        );
        const billableCents = staff
          .filter((e) => e.billable)
          .reduce((s, e) => s + Math.round((e.salary * 100) / 12), 0);
        const adminCents = staff.filter((e) => !e.billable).reduce((s, e) => s + Math.round((e.salary * 100) / 12), 0);
        const taxCents = Math.round((billableCents + adminCents) * 0.18);
        const lines: Line[] = [];
        const active = activeProjectsAt(companyId, end);
        const charged = active.slice(0, 6);
        let remaining = billableCents;
        charged.forEach((p, i) => {
          const share =
            i === charged.length - 1
              ? remaining
              : Math.round((billableCents / (charged.length + 1)) * (0.6 + rng.float() * 0.8));
          const amount = Math.max(0, Math.min(share, remaining));
          remaining -= amount;
          if (amount > 0)
            lines.push({ account: "5010", projectId: p.id, debit: amount, credit: 0, memo: "Project staff time" });
        });
        if (remaining > 0)
          lines.push({
            account: "5010",
            projectId: null,
            debit: remaining,
            credit: 0,
            memo: "Bench and overhead time",
          });
        lines.push({ account: "5020", projectId: null, debit: adminCents, credit: 0, memo: "Administrative salaries" });
        lines.push({
          account: "5100",
          projectId: null,
          debit: taxCents,
          credit: 0,
          memo: "Employer taxes and benefits",
        });
        lines.push({
          account: "1020",
          projectId: null,
          debit: 0,
          credit: billableCents + adminCents + taxCents,
          memo: "Net pay and withholdings",
        });
        const monthName = end.toString().slice(0, 7);
        addEntry(companyId, end, `Payroll ${monthName}`, "payroll", lines);
        addEntry(companyId, monthStart(year, month), `Office rent ${monthName}`, "manual", [
          { account: "6000", projectId: null, debit: rentCents[companyId]!, credit: 0, memo: "Monthly rent" },
          { account: "1010", projectId: null, debit: 0, credit: rentCents[companyId]!, memo: null },
        ]);
        addEntry(companyId, end, `Depreciation ${monthName}`, "manual", [
          {
            account: "6600",
            projectId: null,
            debit: depreciationCents[companyId]!,
            credit: 0,
            memo: "Straight-line depreciation",
          },
          { account: "1590", projectId: null, debit: 0, credit: depreciationCents[companyId]!, memo: null },
        ]);
      }
    }
  }
  const drafts: [number, string, string, number, number][] = [
    [1, "2025-09-12", "Accrual for audit fees (draft)", 45_000_00, 40_000_00],
    [2, "2025-09-18", "Reclass of travel costs (draft)", 3_250_00, 3_520_00],
    [3, "2025-08-29", "Bonus accrual Q3 (draft)", 120_000_00, 0],
    [4, "2025-09-25", "Correction of invoice posting (draft)", 8_400_00, 8_040_00],
    [1, "2025-09-29", "Year-end provision estimate (draft)", 250_000_00, 200_000_00],
  ];
  for (const [companyId, iso, description, debit, credit] of drafts) {
    addEntry(
      companyId,
      day(iso),
      description,
      "manual",
      [
        { account: "6400", projectId: null, debit, credit: 0, memo: "Draft" },
        { account: "2100", projectId: null, debit: 0, credit, memo: "Draft" },
      ],
      false,
    );
  }

  sections.push(
    insertStatements(
      "journal_entries",
      ["entry_id", "company_id", "period_id", "entry_date", "description", "source", "posted"],
      entryRows,
    ),
  );
  sections.push(
    insertStatements(
      "journal_lines",
      ["line_id", "entry_id", "account_id", "project_id", "debit", "credit", "memo"],
      lineRows,
    ),
  );
  sections.push(
    insertStatements(
      "invoices",
      ["invoice_id", "invoice_number", "customer_id", "project_id", "issue_date", "due_date", "amount", "status"],
      invoiceRows,
    ),
  );
  sections.push(
    insertStatements("payments", ["payment_id", "invoice_id", "payment_date", "amount", "method"], paymentRows),
  );
  sections.push(
    insertStatements(
      "vendors",
      ["vendor_id", "name", "category", "country", "payment_terms_days"],
      VENDORS.map((v, i) => [i + 1, ...v]),
    ),
  );
  sections.push(
    insertStatements(
      "vendor_bills",
      ["bill_id", "bill_number", "vendor_id", "project_id", "bill_date", "due_date", "amount", "status"],
      billRows,
    ),
  );

  // Budgets: per project with a budget, per year it spans (≤ 2026), over 3–4 expense accounts.
  const budgetRows: Value[][] = [];
  const budgetAccounts = ["5010", "5200", "6100", "6200"];
  for (const p of projects) {
    if (p.budget === null) continue;
    const firstYear = yearOf(p.start);
    const lastYear = Math.min(yearOf(p.end ?? day("2026-12-31")), 2026);
    const years = lastYear - firstYear + 1;
    const accounts = budgetAccounts.slice(0, rng.int(3, 4));
    const weights = [0.6, 0.2, 0.1, 0.1];
    for (let year = firstYear; year <= lastYear; year++) {
      accounts.forEach((number, k) => {
        budgetRows.push([p.id, acct(number), year, new Cents(Math.round((p.budget! * 100 * weights[k]!) / years))]);
      });
    }
  }
  sections.push(insertStatements("budgets", ["project_id", "account_id", "fiscal_year", "amount"], budgetRows));

  // Timesheets: each assignee logs time about every other week on weekdays while the project runs.
  const timesheetRows: Value[][] = [];
  const projectById = new Map(projects.map((p) => [p.id, p]));
  for (const { projectId, employeeId } of assignments) {
    const p = projectById.get(projectId)!;
    if (p.status === "planned") continue;
    const last = Math.min(p.end?.day ?? TODAY.day, TODAY.day, p.status === "on_hold" ? p.start.day + 240 : Infinity);
    for (let d = addDays(p.start, rng.int(0, 6)); d.day <= last; d = addDays(d, rng.int(7, 21))) {
      let work = d;
      while (weekday(work) === 0 || weekday(work) === 6) work = addDays(work, 1);
      if (work.day > last) break;
      timesheetRows.push([
        timesheetRows.length + 1,
        employeeId,
        projectId,
        work,
        rng.int(2, 20) / 2,
        p.customerId !== null && rng.chance(0.92),
      ]);
    }
  }
  sections.push(
    insertStatements(
      "timesheets",
      ["timesheet_id", "employee_id", "project_id", "work_date", "hours", "billable"],
      timesheetRows,
    ),
  );

  return `${sections.join("\n")}\n`;
}
