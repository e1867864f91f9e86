-- The demo general-ledger / project-accounting database.
-- One company group with subsidiaries, departments, employees, customers, projects, a chart of
-- accounts, fiscal periods, journal entries with balanced lines, receivables, payables, budgets and
-- timesheets. Rows come from data/seedDemoDatabase.ts (deterministic). Column comments feed the
-- schema-aware prompt.

CREATE TABLE companies (
  company_id   integer PRIMARY KEY,
  name         text NOT NULL UNIQUE,
  country      text NOT NULL,
  currency     char(3) NOT NULL
);
COMMENT ON TABLE companies IS 'Legal entities of the group; each keeps its own books';
COMMENT ON COLUMN companies.currency IS 'ISO 4217 functional currency, e.g. USD, EUR, GBP';

CREATE TABLE departments (
  department_id integer PRIMARY KEY,
  company_id    integer NOT NULL REFERENCES companies (company_id),
  name          text NOT NULL,
  UNIQUE (company_id, name)
);
COMMENT ON TABLE departments IS 'Organisational units of a company (Engineering, Finance, Consulting…)';

CREATE TABLE employees (
  employee_id   integer PRIMARY KEY,
  first_name    text NOT NULL,
  last_name     text NOT NULL,
  email         text NOT NULL UNIQUE,
  title         text NOT NULL,
  department_id integer NOT NULL REFERENCES departments (department_id),
  manager_id    integer REFERENCES employees (employee_id),
  salary        numeric(12,2) NOT NULL CHECK (salary > 0),
  hire_date     date NOT NULL,
  status        text NOT NULL CHECK (status IN ('active', 'on_leave', 'terminated'))
);
CREATE INDEX employees_department_idx ON employees (department_id);
CREATE INDEX employees_manager_idx ON employees (manager_id);
COMMENT ON COLUMN employees.salary IS 'Annual base salary in the company currency';
COMMENT ON COLUMN employees.status IS 'active | on_leave | terminated';
COMMENT ON COLUMN employees.manager_id IS 'The employee this one reports to (NULL for the top)';

CREATE TABLE customers (
  customer_id  integer PRIMARY KEY,
  name         text NOT NULL UNIQUE,
  industry     text NOT NULL,
  country      text NOT NULL,
  credit_limit numeric(14,2) NOT NULL CHECK (credit_limit >= 0)
);

CREATE TABLE projects (
  project_id    integer PRIMARY KEY,
  project_code  text NOT NULL UNIQUE,
  name          text NOT NULL,
  customer_id   integer REFERENCES customers (customer_id),
  department_id integer NOT NULL REFERENCES departments (department_id),
  manager_id    integer REFERENCES employees (employee_id),
  status        text NOT NULL CHECK (status IN ('planned', 'active', 'on_hold', 'completed', 'cancelled')),
  budget        numeric(14,2) CHECK (budget >= 0),
  start_date    date NOT NULL,
  end_date      date,
  CHECK (end_date IS NULL OR end_date >= start_date)
);
CREATE INDEX projects_customer_idx ON projects (customer_id);
CREATE INDEX projects_department_idx ON projects (department_id);
CREATE INDEX projects_status_idx ON projects (status);
COMMENT ON COLUMN projects.project_code IS 'Unique code such as PRJ-1001';
COMMENT ON COLUMN projects.status IS 'planned | active | on_hold | completed | cancelled';
COMMENT ON COLUMN projects.budget IS 'Total approved budget; NULL when not yet approved';
COMMENT ON COLUMN projects.customer_id IS 'The billed customer; NULL for internal projects';

CREATE TABLE project_assignments (
  project_id     integer NOT NULL REFERENCES projects (project_id),
  employee_id    integer NOT NULL REFERENCES employees (employee_id),
  role           text NOT NULL,
  allocation_pct numeric(5,2) NOT NULL CHECK (allocation_pct > 0 AND allocation_pct <= 100),
  PRIMARY KEY (project_id, employee_id)
);
CREATE INDEX project_assignments_employee_idx ON project_assignments (employee_id);

CREATE TABLE gl_accounts (
  account_id        integer PRIMARY KEY,
  account_number    text NOT NULL UNIQUE,
  name              text NOT NULL,
  account_type      text NOT NULL CHECK (account_type IN ('asset', 'liability', 'equity', 'revenue', 'expense')),
  parent_account_id integer REFERENCES gl_accounts (account_id),
  is_active         boolean NOT NULL DEFAULT true
);
COMMENT ON TABLE gl_accounts IS 'Chart of accounts';
COMMENT ON COLUMN gl_accounts.account_type IS 'asset | liability | equity | revenue | expense';

CREATE TABLE fiscal_periods (
  period_id     integer PRIMARY KEY,
  fiscal_year   integer NOT NULL,
  period_number integer NOT NULL CHECK (period_number BETWEEN 1 AND 12),
  start_date    date NOT NULL,
  end_date      date NOT NULL,
  is_closed     boolean NOT NULL DEFAULT false,
  UNIQUE (fiscal_year, period_number)
);
COMMENT ON TABLE fiscal_periods IS 'Monthly accounting periods; the fiscal year is the calendar year';

CREATE TABLE journal_entries (
  entry_id    integer PRIMARY KEY,
  company_id  integer NOT NULL REFERENCES companies (company_id),
  period_id   integer NOT NULL REFERENCES fiscal_periods (period_id),
  entry_date  date NOT NULL,
  description text NOT NULL,
  source      text NOT NULL CHECK (source IN ('manual', 'ap', 'ar', 'payroll')),
  posted      boolean NOT NULL DEFAULT false
);
CREATE INDEX journal_entries_period_idx ON journal_entries (period_id);
CREATE INDEX journal_entries_company_idx ON journal_entries (company_id);
COMMENT ON COLUMN journal_entries.posted IS 'Only posted entries count in financial totals';
COMMENT ON COLUMN journal_entries.source IS 'manual | ap (payables) | ar (receivables) | payroll';

CREATE TABLE journal_lines (
  line_id    integer PRIMARY KEY,
  entry_id   integer NOT NULL REFERENCES journal_entries (entry_id),
  account_id integer NOT NULL REFERENCES gl_accounts (account_id),
  project_id integer REFERENCES projects (project_id),
  debit      numeric(14,2) NOT NULL DEFAULT 0 CHECK (debit >= 0),
  credit     numeric(14,2) NOT NULL DEFAULT 0 CHECK (credit >= 0),
  memo       text
);
CREATE INDEX journal_lines_entry_idx ON journal_lines (entry_id);
CREATE INDEX journal_lines_account_idx ON journal_lines (account_id);
CREATE INDEX journal_lines_project_idx ON journal_lines (project_id);
COMMENT ON COLUMN journal_lines.project_id IS 'The project the amount is charged to; NULL for overhead';

CREATE TABLE invoices (
  invoice_id     integer PRIMARY KEY,
  invoice_number text NOT NULL UNIQUE,
  customer_id    integer NOT NULL REFERENCES customers (customer_id),
  project_id     integer REFERENCES projects (project_id),
  issue_date     date NOT NULL,
  due_date       date NOT NULL,
  amount         numeric(14,2) NOT NULL CHECK (amount >= 0),
  status         text NOT NULL CHECK (status IN ('draft', 'sent', 'paid', 'overdue', 'void'))
);
CREATE INDEX invoices_customer_idx ON invoices (customer_id);
CREATE INDEX invoices_project_idx ON invoices (project_id);
COMMENT ON COLUMN invoices.status IS 'draft | sent | paid | overdue | void';

CREATE TABLE payments (
  payment_id   integer PRIMARY KEY,
  invoice_id   integer NOT NULL REFERENCES invoices (invoice_id),
  payment_date date NOT NULL,
  amount       numeric(14,2) NOT NULL CHECK (amount > 0),
  method       text NOT NULL CHECK (method IN ('bank_transfer', 'card', 'check', 'cash'))
);
CREATE INDEX payments_invoice_idx ON payments (invoice_id);

CREATE TABLE vendors (
  vendor_id    integer PRIMARY KEY,
  name         text NOT NULL UNIQUE,
  category     text NOT NULL,
  country      text NOT NULL,
  payment_terms_days integer NOT NULL DEFAULT 30
);

CREATE TABLE vendor_bills (
  bill_id      integer PRIMARY KEY,
  bill_number  text NOT NULL UNIQUE,
  vendor_id    integer NOT NULL REFERENCES vendors (vendor_id),
  project_id   integer REFERENCES projects (project_id),
  bill_date    date NOT NULL,
  due_date     date NOT NULL,
  amount       numeric(14,2) NOT NULL CHECK (amount >= 0),
  status       text NOT NULL CHECK (status IN ('open', 'paid', 'overdue', 'void'))
);
CREATE INDEX vendor_bills_vendor_idx ON vendor_bills (vendor_id);
CREATE INDEX vendor_bills_project_idx ON vendor_bills (project_id);
COMMENT ON COLUMN vendor_bills.status IS 'open | paid | overdue | void';

CREATE TABLE budgets (
  project_id  integer NOT NULL REFERENCES projects (project_id),
  account_id  integer NOT NULL REFERENCES gl_accounts (account_id),
  fiscal_year integer NOT NULL,
  amount      numeric(14,2) NOT NULL CHECK (amount >= 0),
  PRIMARY KEY (project_id, account_id, fiscal_year)
);
COMMENT ON TABLE budgets IS 'Budgeted amount per project, expense account and fiscal year';

CREATE TABLE timesheets (
  timesheet_id integer PRIMARY KEY,
  employee_id  integer NOT NULL REFERENCES employees (employee_id),
  project_id   integer NOT NULL REFERENCES projects (project_id),
  work_date    date NOT NULL,
  hours        numeric(4,2) NOT NULL CHECK (hours > 0 AND hours <= 24),
  billable     boolean NOT NULL
);
CREATE INDEX timesheets_employee_idx ON timesheets (employee_id);
CREATE INDEX timesheets_project_idx ON timesheets (project_id);
CREATE INDEX timesheets_work_date_idx ON timesheets (work_date);
